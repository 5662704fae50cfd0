// `atmanrl train`: AtManRL GRPO (outcome reward + optional saliency reward) on a model and task.

import { runTraining } from '../_internal/train-loop.js';
import type { CommandDef } from '../cli-core.js';

/** The `train` command. */
export const trainCommand: CommandDef = {
  description:
    'GRPO with the outcome reward and the AtManRL saliency reward (paper defaults, method.md)',
  async run(config, io, ctx) {
    await runTraining(config, io, { command: 'train', explicit: ctx.explicit });
  },
};
