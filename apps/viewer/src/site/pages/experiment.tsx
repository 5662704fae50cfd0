// The experiment page: when a folder is an experiment (results.json written by `atmanrl
// experiment`), its answer first. The arms table shows each measure as mean ± sd over seeds and,
// against a control arm the reader picks (default the outcome-only arm), the difference with its
// per-seed range and a marker when it lies beyond two seed standard deviations; the measures the
// experiment is about come first. Beside it, the report's reading and predictions (REPORT.md).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Markdown } from '../components/markdown.js';
import {
  armDiff,
  defaultControl,
  digitsFor,
  focusMetrics,
  type ItemValues,
  orderMetrics,
  PER_ITEM,
  pairedItemDiff,
  type SeedStat,
  signed,
} from '../data/arms.js';
import { baselineName, pairBaselines } from '../data/baselines.js';
import { joinPath, reportHeading } from '../data/experiments.js';
import { ARM_BY_NAME, groupKey } from '../data/groups.js';
import { type Block, parseMarkdown, sectionOf } from '../data/markdown.js';
import { formatRoute } from '../data/route.js';
import type { RunRow } from '../data/run-rows.js';
import type { SiteSource } from '../source.js';

export { reportHeading };

/** What the page reads of results.json (extra fields are ignored). */
export interface ExperimentResults {
  start: Record<string, number | null> | null;
  arms: Record<string, Record<string, SeedStat>>;
  /** Optional labels and directions, as REPORT.md's table has them. */
  metrics?: { key: string; label?: string; note?: string; baseline?: string }[];
  /** Optional: the measures the experiment is about, shown first (default: CoT, modes, H, …). */
  focus?: string[];
}

/** Parses results.json text; `null` when it is not an experiment's results. */
export function parseResults(text: string): ExperimentResults | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (o.arms === null || typeof o.arms !== 'object') return null;
  return o as unknown as ExperimentResults;
}

/** The arm of a run row: its name without the seed, or for an eval run the evaluated run's. */
export function armOfRow(row: RunRow, names: ReadonlyMap<string, string>): string | null {
  if (row.kind === 'eval') {
    if (!row.evaluated?.runId) return null;
    return groupKey(ARM_BY_NAME, names.get(row.evaluated.runId) ?? '', undefined);
  }
  return groupKey(ARM_BY_NAME, row.info?.name ?? row.id, undefined);
}

/**
 * Each arm's evaluation run by seed: the seed of the training run an eval run evaluated (its
 * run.json), so seed s of one arm pairs with seed s of another.
 */
export function seedRows(
  rows: readonly RunRow[],
  names: ReadonlyMap<string, string>,
): Map<string, Map<number, RunRow>> {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out = new Map<string, Map<number, RunRow>>();
  for (const r of rows) {
    if (r.kind !== 'eval' || !r.evaluated?.runId || r.evals.length === 0) continue;
    const arm = armOfRow(r, names);
    const seed = byId.get(r.evaluated.runId)?.info?.seed;
    if (arm === null || seed === undefined) continue;
    const m = out.get(arm) ?? new Map<number, RunRow>();
    out.set(arm, m);
    m.set(seed, r);
  }
  return out;
}

/** Per-item values (see PER_ITEM) of each eval run's report, by run id, then metric. */
type ItemsByRun = ReadonlyMap<string, ReadonlyMap<string, ItemValues>>;

/** Reads the `items` of each eval run's report for the per-item metrics in `keys`. */
async function loadItems(
  site: SiteSource,
  evalRows: readonly RunRow[],
  keys: readonly string[],
): Promise<ItemsByRun> {
  const out = new Map<string, Map<string, ItemValues>>();
  await Promise.all(
    evalRows.map(async (r) => {
      const text = await site.source.readText(`${r.id}/eval/${r.evals[0]!.file}`);
      if (text === null) return;
      const items = (JSON.parse(text) as { items?: unknown }).items;
      if (!Array.isArray(items)) return;
      const perKey = new Map<string, ItemValues>();
      for (const key of keys) {
        const read = PER_ITEM[key]!;
        const values = new Map<string, number>();
        for (const it of items) {
          if (it === null || typeof it !== 'object') continue;
          const id = (it as { id?: unknown }).id;
          const v = read(it as Record<string, unknown>);
          if (typeof id === 'string' && v !== null) values.set(id, v);
        }
        if (values.size > 0) perKey.set(key, values);
      }
      out.set(r.id, perKey);
    }),
  );
  return out;
}

const f = (v: number | null | undefined, digits = 3) =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);

interface Notes {
  reading: Block[] | null;
  predictions: Block[] | null;
}

/** The reading and predictions: sections of REPORT.md, else `reading.md` / `predictions.md`. */
async function readNotes(site: SiteSource, dir: string, names: Set<string>): Promise<Notes> {
  const report = names.has('REPORT.md')
    ? parseMarkdown((await site.source.readText(joinPath(dir, 'REPORT.md'))) ?? '')
    : [];
  const file = async (kind: string): Promise<Block[] | null> => {
    const own = [...names].find((n) => n === `${kind}.md` || n.endsWith(`.${kind}.md`));
    const text = own ? await site.source.readText(joinPath(dir, own)) : null;
    return text === null ? null : parseMarkdown(text);
  };
  return {
    reading: sectionOf(report, /^reading\b/i) ?? (await file('reading')),
    predictions: sectionOf(report, /^predictions\b/i) ?? (await file('predictions')),
  };
}

/** The experiment section of the folder `dir` (renders nothing when it is not an experiment). */
export function ExperimentReport(props: {
  site: SiteSource;
  /** The experiment folder under the root (`''`: the root). */
  dir: string;
  rows: readonly RunRow[];
  names: ReadonlyMap<string, string>;
}) {
  const { site, dir, rows, names } = props;
  const [results, setResults] = useState<ExperimentResults | null>(null);
  const [heading, setHeading] = useState<{ title: string; description: string } | null>(null);
  const [notes, setNotes] = useState<Notes>({ reading: null, predictions: null });
  const [control, setControl] = useState<string | null>(null);
  const [shown, setShown] = useState<string[] | null>(null);
  const [tab, setTab] = useState<'reading' | 'predictions'>('reading');
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const entries = await site.source.list(dir);
      const names = new Set(entries.map((e) => e.name));
      if (!names.has('results.json')) return;
      const text = await site.source.readText(joinPath(dir, 'results.json'));
      const parsed = text === null ? null : parseResults(text);
      const md = names.has('REPORT.md')
        ? await site.readHead(joinPath(dir, 'REPORT.md'), 8192)
        : null;
      if (cancelled) return;
      setResults(parsed);
      setHeading(md ? reportHeading(md) : { title: 'Experiment', description: '' });
      const n = await readNotes(site, dir, names);
      if (!cancelled) setNotes(n);
    })().catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [site, dir]);
  const seeds = useMemo(() => seedRows(rows, names), [rows, names]);
  const [items, setItems] = useState<ItemsByRun>(new Map());
  // Per-item values only for the per-item metrics shown (each report's items: ~1 MB a run).
  const itemKeys = (shown ?? results?.focus ?? [])
    .filter((k) => k in PER_ITEM)
    .sort()
    .join('\n');
  useEffect(() => {
    if (itemKeys === '') return;
    let cancelled = false;
    const evalRows = [...seeds.values()].flatMap((m) => [...m.values()]);
    loadItems(site, evalRows, itemKeys.split('\n'))
      .then((loaded) => {
        if (!cancelled) setItems(loaded);
      })
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [site, seeds, itemKeys]);
  if (!results || !heading) return null;
  const arms = Object.keys(results.arms);
  const ctrl = control !== null && arms.includes(control) ? control : defaultControl(arms);
  const allKeys = results.metrics?.map((m) => m.key) ?? [
    ...new Set(arms.flatMap((a) => Object.keys(results.arms[a]!))),
  ];
  const explicit = Object.fromEntries(
    (results.metrics ?? []).filter((m) => m.baseline).map((m) => [m.key, m.baseline!]),
  );
  const pairs = pairBaselines(orderMetrics(allKeys, results.focus), explicit);
  const pairKeys = pairs.map((p) => p.key);
  const visibleKeys = shown ?? focusMetrics(pairKeys, results.focus);
  const visible = pairs.filter((p) => visibleKeys.includes(p.key));
  const label = (k: string) => results.metrics?.find((m) => m.key === k)?.label ?? k;
  const note = (k: string) => results.metrics?.find((m) => m.key === k)?.note;
  const runsOf = (arm: string | null) => rows.filter((r) => armOfRow(r, names) === arm);
  const links = (arm: string | null) => {
    const mine = runsOf(arm);
    const train = mine.filter((r) => r.kind !== 'eval').map((r) => r.id);
    const evals = mine.filter((r) => r.kind === 'eval').map((r) => r.id);
    return (
      <span class="arm-links">
        {train.length > 0 ? (
          <a href={formatRoute({ page: 'overview', runId: train[0]!, with: train.slice(1) })}>
            curves ({train.length})
          </a>
        ) : null}
        {train.length > 0 && evals.length > 0 ? ' · ' : null}
        {evals.length > 0 ? (
          <a href={formatRoute({ page: 'eval', runId: evals[0]!, with: evals.slice(1) })}>
            evals ({evals.length})
          </a>
        ) : null}
      </span>
    );
  };
  const seedValues = (arm: string, key: string): Map<number, number> => {
    const out = new Map<number, number>();
    for (const [seed, row] of seeds.get(arm) ?? []) {
      const v = row.evals[0]!.summary[key];
      if (v !== null && v !== undefined && Number.isFinite(v)) out.set(seed, v);
    }
    return out;
  };
  const byName = (a: RunRow, b: RunRow) => a.label.localeCompare(b.label);
  const allTrain = rows
    .filter((r) => r.kind !== 'eval' && armOfRow(r, names) !== null)
    .sort(byName);
  // The arms' evals, the start evaluation(s) (of the starting model: no arm) first.
  const allEval = [
    ...rows.filter((r) => r.kind === 'eval' && r.evaluated?.runId === null).sort(byName),
    ...rows.filter((r) => r.kind === 'eval' && armOfRow(r, names) !== null).sort(byName),
  ];
  const cellFor = (arm: string, key: string, baseline: string | null) => {
    const s = results.arms[arm]?.[key];
    const digits = digitsFor(key);
    const b = baseline ? results.arms[arm]?.[baseline] : undefined;
    const main = s ? `${f(s.mean, digits)} ± ${f(s.std, digits)}` : '–';
    const seedDiff =
      ctrl !== null && arm !== ctrl
        ? armDiff(s, results.arms[ctrl]?.[key], seedValues(arm, key), seedValues(ctrl, key))
        : null;
    // Where the per-item values exist, the marker uses the paired per-item SE instead.
    const paired =
      seedDiff && ctrl !== null && key in PER_ITEM
        ? pairedItemDiff(
            [...(seeds.get(arm) ?? [])].flatMap(([seed, row]) => {
              const a = items.get(row.id)?.get(key);
              const cRow = seeds.get(ctrl)?.get(seed);
              const c = cRow ? items.get(cRow.id)?.get(key) : undefined;
              return a && c ? [{ arm: a, control: c }] : [];
            }),
          )
        : null;
    const diff =
      seedDiff && paired
        ? { ...seedDiff, beyond: Math.abs(seedDiff.delta) > 2 * paired.se }
        : seedDiff;
    return (
      <td key={key} class="num" data-metric={key}>
        <div class="cell-main">{main}</div>
        {arm === ctrl ? <div class="cell-diff control-mark">control</div> : null}
        {diff ? (
          <div
            class={diff.beyond ? 'cell-diff beyond' : 'cell-diff'}
            data-delta={diff.delta}
            data-lo={diff.range?.lo}
            data-hi={diff.range?.hi}
            data-beyond={diff.beyond ? '' : undefined}
            data-se={paired ? paired.se : undefined}
            title={`difference from ${ctrl}: ${signed(diff.delta, digits)}${diff.range ? `; per-seed differences ${signed(diff.range.lo, digits)} to ${signed(diff.range.hi, digits)} (${diff.range.seeds} seeds)` : ''}${paired ? `; 2 paired per-item SE = ${(2 * paired.se).toFixed(digits)} (${paired.items} item pairs over ${paired.seeds} seeds)` : diff.sd !== null ? `; 2 seed sd = ${(2 * diff.sd).toFixed(digits)}` : ''}`}
          >
            Δ {signed(diff.delta, digits)}
            {diff.beyond ? (
              <span class="beyond-mark">
                {' '}
                <span aria-hidden="true">◆</span>
                <span class="sr-only">beyond 2 seed sd</span>
              </span>
            ) : null}
            {paired ? <div class="range">paired SE {paired.se.toFixed(digits)}</div> : null}
            {diff.range ? (
              <div class="range">
                [{signed(diff.range.lo, digits)}, {signed(diff.range.hi, digits)}]
              </div>
            ) : null}
          </div>
        ) : null}
        {b ? (
          <div class="cell-base">
            {baselineName(key, baseline!)} {f(b.mean, digits)}
          </div>
        ) : null}
      </td>
    );
  };
  const toggleKey = (k: string) =>
    setShown((prev) => {
      const cur = prev ?? visibleKeys;
      return cur.includes(k)
        ? cur.filter((x) => x !== k)
        : pairKeys.filter((x) => x === k || cur.includes(x));
    });
  const noteBlocks = tab === 'reading' ? notes.reading : notes.predictions;
  return (
    <section class="experiment" aria-labelledby="experiment-title">
      <h2 id="experiment-title">{heading.title}</h2>
      {heading.description ? <p class="experiment-description">{heading.description}</p> : null}
      {allTrain.length > 0 ? (
        <p class="arm-links all-arms">
          All arms:{' '}
          <a
            href={formatRoute({
              page: 'overview',
              runId: allTrain[0]!.id,
              with: allTrain.slice(1).map((r) => r.id),
            })}
          >
            training curves ({allTrain.length} runs)
          </a>
          {' · '}
          <a
            href={formatRoute({
              page: 'saliency',
              runId: allTrain[0]!.id,
              with: allTrain.slice(1).map((r) => r.id),
            })}
          >
            saliency ({allTrain.length} runs)
          </a>
          {allEval.length > 0 ? (
            <>
              {' · '}
              <a
                href={formatRoute({
                  page: 'eval',
                  runId: allEval[0]!.id,
                  with: allEval.slice(1).map((r) => r.id),
                })}
              >
                evals ({allEval.length} runs)
              </a>
            </>
          ) : null}
        </p>
      ) : null}
      <div class="experiment-layout">
        <div class="arms-answer">
          <div class="toolbar">
            <label class="control">
              Control arm{' '}
              <select
                value={ctrl ?? ''}
                onChange={(e) => setControl((e.target as HTMLSelectElement).value)}
              >
                {arms.map((a) => (
                  <option key={a} value={a}>
                    {a}
                  </option>
                ))}
              </select>
            </label>
            <details class="columns-pick measures-pick">
              <summary>
                Measures ({visible.length} of {pairs.length})
              </summary>
              <div class="pick-list">
                {pairs.map((p) => (
                  <label key={p.key}>
                    <input
                      type="checkbox"
                      checked={visibleKeys.includes(p.key)}
                      onChange={() => toggleKey(p.key)}
                    />{' '}
                    {label(p.key)}
                  </label>
                ))}
              </div>
            </details>
          </div>
          <p class="table-note" id="arms-note">
            Mean ± sd over seeds. Δ: arm mean − control mean ({ctrl}); below it the lowest and
            highest per-seed difference (seed s − control seed s). <span aria-hidden="true">◆</span>{' '}
            Δ beyond 2 pooled seed sd, √((sd²<sub>arm</sub> + sd²<sub>control</sub>)/2).
          </p>
          <div class="table-scroll arms-scroll">
            <table class="arms-table" aria-describedby="arms-note">
              <thead>
                <tr>
                  <th scope="col" class="arm-col">
                    arm
                  </th>
                  {visible.map((p) => (
                    <th key={p.key} scope="col" class="num" data-metric={p.key}>
                      {label(p.key)}
                      {note(p.key) ? <div class="run-id">{note(p.key)}</div> : null}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {results.start ? (
                  <tr data-arm="start">
                    <th scope="row" class="arm-col">
                      start
                      <div class="run-id">{links(null)}</div>
                    </th>
                    {visible.map((p) => {
                      const digits = digitsFor(p.key);
                      const b = p.baseline ? results.start?.[p.baseline] : undefined;
                      return (
                        <td key={p.key} class="num" data-metric={p.key}>
                          <div class="cell-main">{f(results.start?.[p.key], digits)}</div>
                          {b !== undefined && b !== null ? (
                            <div class="cell-base">
                              {baselineName(p.key, p.baseline!)} {f(b, digits)}
                            </div>
                          ) : null}
                        </td>
                      );
                    })}
                  </tr>
                ) : null}
                {arms.map((arm) => (
                  <tr key={arm} data-arm={arm} class={arm === ctrl ? 'control-row' : undefined}>
                    <th scope="row" class="arm-col">
                      {arm}
                      <div class="run-id">{links(arm)}</div>
                    </th>
                    {visible.map((p) => cellFor(arm, p.key, p.baseline))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
        {notes.reading || notes.predictions ? (
          <aside class="experiment-notes" aria-label="The report's reading and predictions">
            <div class="toolbar">
              {notes.reading ? (
                <button
                  type="button"
                  aria-pressed={tab === 'reading'}
                  onClick={() => setTab('reading')}
                >
                  Reading
                </button>
              ) : null}
              {notes.predictions ? (
                <button
                  type="button"
                  aria-pressed={tab === 'predictions'}
                  onClick={() => setTab('predictions')}
                >
                  Predictions
                </button>
              ) : null}
            </div>
            <div class="notes-body" data-notes={tab}>
              <Markdown blocks={(noteBlocks ?? notes.reading ?? notes.predictions)!} level={3} />
            </div>
          </aside>
        ) : null}
      </div>
    </section>
  );
}
