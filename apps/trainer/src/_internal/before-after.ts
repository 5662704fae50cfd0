// A before/after evaluation on a fixed held-out set: accuracy of sampled completions (the trained
// objective), CoT length, reasoning-mode shares and the mask statistic, each with its standard
// error, and a verdict per metric that names a change only when it exceeds two standard errors.
import { evaluate } from '@atmanrl/eval';
import type { EvalReport, EvalSampleRecord, WithoutVersion } from '@atmanrl/runs';
import type { RunConfig } from '../config.js';
import { loadPolicy } from './model-source.js';
import { type SaliencyFitConfig, saliencyFitOptions } from './run-setup.js';
import { loadTask, type TaskConfig } from './task.js';

/** One compared metric. */
export interface BeforeAfterRow {
  key: string;
  label: string;
  before: number | null;
  after: number | null;
  /** `after - before`, and its standard error `sqrt(se_before² + se_after²)`. */
  diff: number | null;
  diffSe: number | null;
  /** `'up'`/`'down'` when |diff| > 2 · diffSe, else `'no change'` (within noise). */
  verdict: 'up' | 'down' | 'no change' | 'n/a';
}

/** The metrics compared: summary key, label, and the key of its standard error. */
export const BEFORE_AFTER_METRICS: readonly { key: string; label: string; se: string }[] = [
  { key: 'pass@1', label: 'accuracy (T=1 samples)', se: 'pass@1_se' },
  { key: 'cot_tokens/mean', label: 'CoT length (tokens)', se: 'cot_tokens/mean_se' },
  { key: 'modes/terse', label: 'terse share', se: 'modes/terse_se' },
  { key: 'modes/verbose', label: 'verbose share', se: 'modes/verbose_se' },
  { key: 'modes/bypass', label: 'bypass share', se: 'modes/bypass_se' },
  { key: 'saliency/mask_h', label: 'mask statistic H (greedy)', se: 'saliency/mask_h_se' },
];

/** The run-config keys of the held-out evaluation. */
export type HeldOutConfig = TaskConfig &
  SaliencyFitConfig &
  Pick<RunConfig, 'maxCompletionLength' | 'temperature'>;

/**
 * Held-out evaluation of one model for the comparison (test split, fixed seed and items): the
 * report and every completion it generated.
 */
export async function heldOutEval(
  modelDir: string,
  config: HeldOutConfig,
  options: { limit: number; samples: number; onStatus?: (s: string) => void },
): Promise<{ report: EvalReport; samples: WithoutVersion<EvalSampleRecord>[] }> {
  const task = await loadTask(config, 'test');
  const { model } = await loadPolicy(modelDir, {
    needsChatTemplate: task.usesChatTemplate,
    trainable: false,
  });
  const byId = new Map(task.items.map((it) => [it.sample.id, it]));
  try {
    const { report, samples } = await evaluate(
      model,
      task.items.map((it) => it.sample),
      {
        name: 'held-out',
        modelName: modelDir,
        dataset: { name: task.name, split: 'test' },
        seed: 0,
        limit: options.limit,
        task,
        encodePrompt: (s) => task.encodePrompt(model.tokenizer!, byId.get(s.id)!),
        maxNewTokens: config.maxCompletionLength,
        numSamples: options.samples,
        passK: [1],
        temperature: config.temperature,
        metrics: {
          earlyAnswering: false,
          addingMistakes: false,
          filler: false,
          saliency: false,
          atmanAgreement: false,
          maskStatistic: true,
        },
        saliencyFit: saliencyFitOptions(config),
        reasoningModes: task.modes ?? false,
        includeItems: false,
        onProgress: (p) => options.onStatus?.(`held-out eval: ${p.stage} ${p.done}/${p.total}`),
      },
    );
    return { report, samples };
  } finally {
    model.dispose();
  }
}

const num = (x: number | null | undefined): number | null =>
  typeof x === 'number' && Number.isFinite(x) ? x : null;

/** Compares two held-out summaries metric by metric (metrics absent from both are left out). */
export function compareSummaries(
  before: Readonly<Record<string, number | null>>,
  after: Readonly<Record<string, number | null>>,
): BeforeAfterRow[] {
  const rows: BeforeAfterRow[] = [];
  for (const m of BEFORE_AFTER_METRICS) {
    const b = num(before[m.key]);
    const a = num(after[m.key]);
    if (b === null && a === null) continue;
    const seB = num(before[m.se]);
    const seA = num(after[m.se]);
    const diff = a !== null && b !== null ? a - b : null;
    const diffSe = seA !== null && seB !== null ? Math.sqrt(seA ** 2 + seB ** 2) : null;
    const verdict =
      diff === null || diffSe === null
        ? 'n/a'
        : Math.abs(diff) > 2 * diffSe
          ? diff > 0
            ? 'up'
            : 'down'
          : 'no change';
    rows.push({ key: m.key, label: m.label, before: b, after: a, diff, diffSe, verdict });
  }
  return rows;
}

const f = (x: number | null, digits = 3): string => (x === null ? '–' : x.toFixed(digits));

/** The comparison as a fixed-width text table with ± standard errors. */
export function formatComparison(
  rows: readonly BeforeAfterRow[],
  before: Readonly<Record<string, number | null>>,
  after: Readonly<Record<string, number | null>>,
): string {
  const se = (s: Readonly<Record<string, number | null>>, key: string) => {
    const m = BEFORE_AFTER_METRICS.find((x) => x.key === key)!;
    return num(s[m.se]);
  };
  const lines = [
    `${'metric'.padEnd(28)} ${'before'.padStart(15)} ${'after'.padStart(15)} ${'change'.padStart(17)}  verdict`,
  ];
  for (const r of rows) {
    lines.push(
      `${r.label.padEnd(28)} ${`${f(r.before)} ± ${f(se(before, r.key))}`.padStart(15)} ${`${f(r.after)} ± ${f(se(after, r.key))}`.padStart(15)} ${`${r.diff !== null && r.diff >= 0 ? '+' : ''}${f(r.diff)} ± ${f(r.diffSe)}`.padStart(17)}  ${r.verdict}`,
    );
  }
  return lines.join('\n');
}
