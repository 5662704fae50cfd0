// What AtManRL costs per GRPO step (issue 31 item 4): outcome-only and AtManRL step time side by
// side, at the demo size and at the modes recipe size (experiments/modes-arms.yaml), in one run.
// Each variant is one `atmanrl train --max-steps 1` child process of the built CLI (dist/cli.js;
// run `pnpm build` first) on the wasm backend with BENCH_STEP_WORKERS workers; step 1 is the same
// batch of prompts with the same seed in every variant, so the variants differ only by the
// saliency reward and its settings. Variants alternate within each repetition (A, B, C, A, B, C, ...) so a load
// change on a shared machine hits them alike; the table gives the median step_time over the
// repetitions, its phases (generation, reward, update) and the ratio to outcome-only.
//
//   pnpm build && pnpm --filter @atmanrl/trainer exec vitest bench --run bench/step.bench.ts
//
// Env: BENCH_STEP_REPS (default 3), BENCH_STEP_SIZES (default "demo,modes"),
// BENCH_STEP_MODES_PROMPTS (default 64 = the recipe's 64 prompts × 8; fewer scales the batch down
// at the same micro-batch size of 64 rollouts), BENCH_STEP_WORKERS (default "1", as the recipes
// run; e.g. "1,2": each size at each worker count, the variants alternating within each),
// BENCH_STEP_VARIANTS (default "outcome,recipe,fast,overlap,lean"; also "lean6"; outcome-only
// always runs).
// Writes .test-results/step-bench.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FIT_PRESETS } from '@atmanrl/saliency';
import { afterAll, bench, describe } from 'vitest';

const app = resolve(import.meta.dirname, '..');
const root = resolve(app, '..', '..');
const cli = join(app, 'dist', 'cli.js');
const REPS = Number(process.env['BENCH_STEP_REPS'] ?? 3);
const SIZES = (process.env['BENCH_STEP_SIZES'] ?? 'demo,modes').split(',');
const MODES_PROMPTS = Number(process.env['BENCH_STEP_MODES_PROMPTS'] ?? 64);
const WORKERS = (process.env['BENCH_STEP_WORKERS'] ?? '1').split(',').map(Number);
const once = { time: 0, iterations: 1, warmupIterations: 0, warmupTime: 0 };

const common = [
  '--backend',
  'wasm',
  '--max-steps',
  '1',
  '--probe-prompts',
  '0',
  '--checkpoint-every',
  '1000',
  '--log-samples-every',
  '1000',
  '--seed',
  '0',
];
const sizes: Record<string, { label: string; flags: string[] }> = {
  demo: {
    label: 'demo (embedded model, 4 prompts × 4, ≤ 40 tokens, μ = 1)',
    flags: [
      ...['--prompts-per-step', '4', '--num-generations', '4', '--max-completion-length', '40'],
      ...['--learning-rate', '1e-5', '--num-iterations', '1', '--synthetic-steps', '2'],
    ],
  },
  modes: {
    label: `modes recipe (modes-cpu/sft-model, ${MODES_PROMPTS} prompts × 8, ≤ 96 tokens, μ = 2)`,
    flags: [
      ...['--model', join(root, 'experiments', 'modes-cpu', 'sft-model')],
      ...['--synthetic-task', 'modes', '--synthetic-guessable-fraction', '0.4'],
      ...['--prompts-per-step', String(MODES_PROMPTS), '--num-generations', '8'],
      ...['--gradient-accumulation-steps', String(Math.max(1, MODES_PROMPTS / 8))],
      ...['--max-completion-length', '96', '--learning-rate', '1e-4', '--num-iterations', '2'],
    ],
  },
};
const preset = (p: {
  steps: number;
  lr: number;
  betas: readonly [number, number];
  weightDecay: number;
}) => [
  ...['--saliency-steps', String(p.steps), '--saliency-lr', String(p.lr)],
  ...['--saliency-beta1', String(p.betas[0]), '--saliency-beta2', String(p.betas[1])],
  ...['--saliency-weight-decay', String(p.weightDecay)],
];
const allVariants: { key: string; name: string; flags: string[] }[] = [
  { key: 'outcome', name: 'outcome only', flags: ['--saliency-reward', 'false'] },
  {
    key: 'recipe',
    name: 'AtManRL, recipe fit (20 × 1e-2)',
    flags: ['--saliency-steps', '20', '--saliency-lr', '0.01'],
  },
  {
    key: 'fast',
    name: `AtManRL, fast preset (${FIT_PRESETS.fast.steps} steps)`,
    flags: preset(FIT_PRESETS.fast),
  },
  {
    key: 'overlap',
    name: `AtManRL, fast preset, --overlap-rewards`,
    flags: [...preset(FIT_PRESETS.fast), '--overlap-rewards', 'true'],
  },
  {
    key: 'lean',
    name: 'AtManRL, fast preset, --overlap-rewards, --saliency-diagnostics false',
    flags: [
      ...preset(FIT_PRESETS.fast),
      ...['--overlap-rewards', 'true', '--saliency-diagnostics', 'false'],
    ],
  },
  {
    // Not run by default: 6 steps also pass the Spearman rule, narrowly (saliency README).
    key: 'lean6',
    name: 'AtManRL, 6 steps (lr 0.2/6, β1 = 0), --overlap-rewards, --saliency-diagnostics false',
    flags: [
      ...preset({ ...FIT_PRESETS.fast, steps: 6, lr: 0.2 / 6 }),
      ...['--overlap-rewards', 'true', '--saliency-diagnostics', 'false'],
    ],
  },
];
const KEYS = (process.env['BENCH_STEP_VARIANTS'] ?? 'outcome,recipe,fast,overlap,lean').split(',');
for (const k of KEYS) {
  if (!allVariants.some((v) => v.key === k))
    throw new Error(
      `BENCH_STEP_VARIANTS: unknown variant '${k}'; use a comma list of ${allVariants.map((v) => v.key).join(', ')}`,
    );
}
// Outcome-only always runs first: the ratios are to it.
const variants = allVariants.filter((v) => v.key === 'outcome' || KEYS.includes(v.key));

interface Sample {
  size: string;
  workers: number;
  variant: string;
  rep: number;
  stepTime: number;
  generation: number;
  reward: number;
  update: number;
  loadBefore: number;
  loadAfter: number;
}
const samples: Sample[] = [];
// vitest's bench may call a task more than once (tinybench's minimum samples); each size runs once.
const ran = new Set<string>();

function runOnce(
  size: string,
  workers: number,
  variant: (typeof variants)[number],
  rep: number,
): void {
  const runsDir = mkdtempSync(join(tmpdir(), 'atmanrl-step-bench-'));
  try {
    const loadBefore = loadavg()[0]!;
    const r = spawnSync(
      process.execPath,
      [
        ...[cli, 'train', ...common, '--workers', String(workers), ...sizes[size]!.flags],
        ...[...variant.flags, '--runs-dir', runsDir],
      ],
      { encoding: 'utf8', cwd: root },
    );
    if (r.status !== 0) throw new Error(`${size} / ${variant.name}: exit ${r.status}\n${r.stderr}`);
    const run = readdirSync(runsDir)[0]!;
    const lines = readFileSync(join(runsDir, run, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const last = JSON.parse(lines[lines.length - 1]!) as { metrics?: Record<string, number> };
    const m = (last.metrics ?? (last as Record<string, number>)) as Record<string, number>;
    samples.push({
      size,
      workers,
      variant: variant.name,
      rep,
      stepTime: m['step_time']!,
      generation: m['time/generation'] ?? 0,
      reward: m['time/reward'] ?? 0,
      update: m['time/update'] ?? 0,
      loadBefore,
      loadAfter: loadavg()[0]!,
    });
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

for (const size of SIZES) {
  for (const workers of WORKERS) {
    const key = `${size} × ${workers}`;
    describe(`GRPO step, ${sizes[size]!.label}, --workers ${workers}`, () => {
      bench(
        `outcome-only vs AtManRL, ${REPS} alternating repetitions`,
        () => {
          if (ran.has(key)) return;
          ran.add(key);
          for (let rep = 1; rep <= REPS; rep++)
            for (const v of variants) runOnce(size, workers, v, rep);
        },
        once,
      );
    });
  }
}

afterAll(() => {
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  const loads = samples.flatMap((s) => [s.loadBefore, s.loadAfter]);
  const lines = [
    `machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length}; load average (1 min) during the runs ${Math.min(...loads).toFixed(1)} .. ${Math.max(...loads).toFixed(1)}; median of ${REPS} alternating repetitions, seconds`,
    '',
    '| size | workers | variant | step s | generation s | reward s | update s | ratio to outcome-only (median of per-rep ratios) |',
    '|---|---:|---|---:|---:|---:|---:|---:|',
  ];
  const out = [];
  for (const size of SIZES) {
    for (const workers of WORKERS) {
      const at = (s: Sample) => s.size === size && s.workers === workers;
      const base = samples.filter((s) => at(s) && s.variant === variants[0]!.name);
      for (const v of variants) {
        const mine = samples.filter((s) => at(s) && s.variant === v.name);
        if (mine.length === 0) continue;
        const ratios = mine.flatMap((s) => {
          const b = base.find((x) => x.rep === s.rep);
          return b ? [s.stepTime / b.stepTime] : [];
        });
        const row = {
          size,
          workers,
          variant: v.name,
          step: median(mine.map((s) => s.stepTime)),
          generation: median(mine.map((s) => s.generation)),
          reward: median(mine.map((s) => s.reward)),
          update: median(mine.map((s) => s.update)),
          ratio: median(ratios),
        };
        out.push(row);
        lines.push(
          `| ${sizes[size]!.label} | ${workers} | ${v.name} | ${row.step.toFixed(2)} | ${row.generation.toFixed(2)} | ${row.reward.toFixed(2)} | ${row.update.toFixed(2)} | ${row.ratio.toFixed(2)}× |`,
        );
      }
    }
  }
  console.info(`\n${lines.join('\n')}\n`);
  const dir = join(app, '.test-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'step-bench.json'), JSON.stringify({ rows: out, samples }, null, 1));
});
