// `atmanrl demo` (= `pnpm start`): the main job on the embedded default model: a held-out
// evaluation, AtManRL GRPO (outcome + saliency reward) for a few minutes on CPU, the same
// evaluation of the trained policy, and a before/after table with standard errors.
import { join } from 'node:path';
import { evalSamplesPath, writeEvalSamples, writeJsonAtomic } from '@atmanrl/runs/node';
import { compareSummaries, formatComparison, heldOutEval } from '../_internal/before-after.js';
import { latestCheckpointDir } from '../_internal/experiment.js';
import { grpoDefaultNotes, grpoProblems } from '../_internal/grpo-check.js';
import { resolveModel } from '../_internal/model-source.js';
import { setUpBackend } from '../_internal/run-setup.js';
import { runTraining } from '../_internal/train-loop.js';
import type { CommandDef } from '../cli-core.js';
import type { RunConfig } from '../config.js';

/**
 * Demo settings: the paper's method at a size two CPU cores run in minutes. Everything the
 * paper fixes (ε, reward, mask-fit optimiser) keeps its value; sizes and the learning rate shrink.
 */
export const DEMO_DEFAULTS: Partial<RunConfig> = {
  model: 'embedded',
  runName: 'demo',
  maxSteps: 12,
  promptsPerStep: 4,
  numGenerations: 4,
  maxCompletionLength: 40,
  // 16 rollouts per step: at lr ≥ 3e-5 such small-batch GRPO drifts this policy down
  // (experiments/small-cpu.reading.md); 1e-5 keeps it where it is.
  learningRate: 1e-5,
  numIterations: 1,
  saliencySteps: 20,
  // lr × steps = 0.2 as in the paper (1e-3 × 200): the same total movement of θ in 20 steps;
  // measured agreement with the 200-step fit: Spearman 0.94 per token, 0.97 for H across items
  // (experiments/modes-cpu/PILOT.md).
  saliencyLr: 1e-2,
  checkpointEvery: 4,
  syntheticSteps: 2,
  evalLimit: 32,
  evalSamples: 4,
};

/** The `demo` command. */
export const demoCommand: CommandDef = {
  description:
    'AtManRL GRPO on the embedded default model for a few minutes, with a before/after evaluation (the README’s main job)',
  defaults: DEMO_DEFAULTS,
  validate: grpoProblems,
  notes: grpoDefaultNotes,
  async run(config, io, ctx) {
    const held = { limit: config.evalLimit, samples: config.evalSamples };
    const start = (await resolveModel(config.model, { revision: config.revision, io })).dir;
    const onStatus = (s: string) => io.status?.(s);
    let before = null;
    if (config.resume === null) {
      // The evaluation runs before training sets the backend up: set it up now (quietly; the
      // training loop prints it).
      await setUpBackend(config, { ...io, out: () => {} });
      io.out(
        `held-out evaluation before training: ${held.limit} test problems × ${held.samples} samples at T=${config.temperature}`,
      );
      before = await heldOutEval(start, config, { ...held, onStatus });
    }
    const outcome = await runTraining(config, io, { command: 'demo', explicit: ctx.explicit });
    if (outcome.status !== 'finished' || before === null) return;
    const after = await heldOutEval(latestCheckpointDir(outcome.runDir), config, {
      ...held,
      onStatus,
    });
    for (const [name, r] of [
      ['held-out-before', before],
      ['held-out-after', after],
    ] as const) {
      writeJsonAtomic(join(outcome.runDir, 'eval', `${name}.json`), r.report);
      writeEvalSamples(join(outcome.runDir, evalSamplesPath(name)), r.samples);
    }
    const rows = compareSummaries(before.report.summary, after.report.summary);
    io.out(
      `\nbefore → after on the same ${held.limit} held-out problems (± standard error over problems; a change is named only beyond 2 standard errors):`,
    );
    io.out(formatComparison(rows, before.report.summary, after.report.summary));
    const acc = rows.find((r) => r.key === 'pass@1');
    const changed = rows.filter((r) => r.verdict === 'up' || r.verdict === 'down');
    if (acc?.verdict === 'down') {
      io.out(
        'The policy got WORSE on held-out accuracy beyond the noise. This short run does not improve the model; see experiments/ for the recipe that does.',
      );
    } else if (changed.length === 0) {
      io.out(
        'Nothing changed beyond the noise: a run of a few minutes is too short to move this policy measurably. What it does show is the method at work: the per-token saliency of every rollout, in the viewer.',
      );
    } else {
      io.out(
        `Changed beyond the noise: ${changed.map((r) => `${r.label} ${r.verdict}`).join(', ')}; held-out accuracy did not fall.`,
      );
    }
  },
};
