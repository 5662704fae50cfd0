// Loading runs into components: one run followed live while it is being written (new
// metrics/samples lines every ~2 s), reloaded whole when a log was truncated (a resume rewinds
// metrics.jsonl to its checkpoint), or several runs loaded once.
import {
  type LoadedRun,
  loadRun,
  MetricsRecordSchema,
  RunInfoSchema,
  SampleRecordSchema,
} from '@atmanrl/runs';
import { useEffect, useState } from 'preact/hooks';
import { followJsonlChecked } from './data/follow.js';
import type { SiteSource } from './source.js';

/** Poll interval of the live refresh. */
export const LIVE_POLL_MS = 2000;

/** A run being loaded. */
export interface RunState {
  run: LoadedRun | null;
  error: string | null;
  /** True while the run is followed (status `running` on a live server). */
  following: boolean;
}

/** Loads `runId` and, on a live server while it is `running`, appends new lines every 2 s. */
export function useRun(
  site: SiteSource,
  runId: string,
  options: { samples?: boolean } = {},
): RunState {
  const [state, setState] = useState<RunState>({ run: null, error: null, following: false });
  const withSamples = options.samples !== false;
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const { source } = site;
    setState({ run: null, error: null, following: false });
    const start = async () => {
      site.invalidate();
      const run = await loadRun(source, runId, { samples: withSamples });
      if (cancelled) return;
      const running = site.live && (run.info === null || run.info.status === 'running');
      if (!running) {
        setState({ run, error: null, following: false });
        return;
      }
      // Follow the logs from here on: the first poll returns every complete line so far.
      const metricsFollow = followJsonlChecked(
        source,
        `${runId}/metrics.jsonl`,
        MetricsRecordSchema,
      );
      const samplesFollow = followJsonlChecked(
        source,
        `${runId}/samples.jsonl`,
        SampleRecordSchema,
      );
      let current: LoadedRun = {
        ...run,
        metrics: (await metricsFollow.poll()).records,
        samples: withSamples ? (await samplesFollow.poll()).records : [],
      };
      if (cancelled) return;
      setState({ run: current, error: null, following: true });
      const tick = async () => {
        site.invalidate();
        const m = await metricsFollow.poll();
        const s = withSamples
          ? await samplesFollow.poll()
          : { records: [], problems: [], truncated: false };
        if (cancelled) return;
        if (m.truncated || s.truncated) {
          // A resume rewound the logs: start over from a full read (and follow again).
          await start();
          return;
        }
        const infoText = await source.readText(`${runId}/run.json`);
        if (cancelled) return;
        const parsed = infoText === null ? null : RunInfoSchema.safeParse(safeJson(infoText));
        const info = parsed?.success ? parsed.data : current.info;
        const changed =
          m.records.length > 0 ||
          s.records.length > 0 ||
          info?.status !== current.info?.status ||
          info?.step !== current.info?.step;
        if (info && info.status !== 'running') {
          // Finished: one full reload picks up eval reports and the final problems.
          const final = await loadRun(source, runId, { samples: withSamples });
          if (!cancelled) setState({ run: final, error: null, following: false });
          return;
        }
        if (changed) {
          const grown = (file: string, n: number) => (p: { file: string; code: string }) =>
            !(
              n > 0 &&
              p.file === `${runId}/${file}` &&
              (p.code === 'TORN_LINE' || p.code === 'NOT_FOUND')
            );
          current = {
            ...current,
            info,
            metrics: [...current.metrics, ...m.records],
            samples: [...current.samples, ...s.records],
            problems: [...current.problems, ...m.problems, ...s.problems]
              .filter(grown('metrics.jsonl', m.records.length))
              .filter(grown('samples.jsonl', s.records.length)),
          };
          setState({ run: current, error: null, following: true });
        }
        timer = setTimeout(loop, LIVE_POLL_MS);
      };
      const loop = () => {
        tick().catch((e: unknown) => {
          if (cancelled) return;
          setState((prev) => ({ ...prev, error: `live refresh failed: ${(e as Error).message}` }));
          timer = setTimeout(loop, LIVE_POLL_MS);
        });
      };
      timer = setTimeout(loop, LIVE_POLL_MS);
    };
    start().catch((e: unknown) => {
      if (!cancelled) setState({ run: null, error: (e as Error).message, following: false });
    });
    return () => {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [site, runId, withSamples]);
  return state;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Loads several runs once (without samples unless asked), e.g. runs overlaid on the overview. */
export function useRuns(
  site: SiteSource,
  runIds: readonly string[],
  options: { samples?: boolean } = {},
): Map<string, LoadedRun> {
  const [runs, setRuns] = useState<Map<string, LoadedRun>>(new Map());
  const key = runIds.join('\n');
  const samples = options.samples === true;
  useEffect(() => {
    let cancelled = false;
    const ids = key === '' ? [] : key.split('\n');
    Promise.all(ids.map((id) => loadRun(site.source, id, { samples })))
      .then((loaded) => {
        if (!cancelled) setRuns(new Map(loaded.map((r) => [r.id, r])));
      })
      .catch(() => {
        if (!cancelled) setRuns(new Map());
      });
    return () => {
      cancelled = true;
    };
  }, [site, key, samples]);
  return runs;
}
