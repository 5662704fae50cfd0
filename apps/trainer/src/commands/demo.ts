// `atmanrl demo` (= `pnpm start`): the main job on the embedded default model: AtManRL GRPO
// (outcome + saliency reward) for a few minutes on CPU, then how to open the run in the viewer.

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
  learningRate: 1e-4,
  numIterations: 1,
  saliencySteps: 50,
  // lr × steps = 0.2 as in the paper (1e-3 × 200): the same total movement of θ in 50 steps.
  saliencyLr: 4e-3,
  checkpointEvery: 4,
  syntheticSteps: 2,
};

/** The `demo` command. */
export const demoCommand: CommandDef = {
  description:
    'AtManRL GRPO on the embedded default model for a few minutes (the README’s main job)',
  defaults: DEMO_DEFAULTS,
  async run(config, io, ctx) {
    await runTraining(config, io, { command: 'demo', explicit: ctx.explicit });
  },
};
