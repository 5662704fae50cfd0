// `atmanrl train`: AtManRL GRPO (outcome reward + optional saliency reward) on a model and task.

import { grpoDefaultNotes, grpoProblems } from '../_internal/grpo-check.js';
import { runTraining } from '../_internal/train-loop.js';
import type { CommandDef } from '../cli-core.js';

/** The `train` command. */
export const trainCommand: CommandDef = {
  description:
    'GRPO with the outcome reward and the AtManRL saliency reward (paper defaults, method.md)',
  validate: grpoProblems,
  notes: grpoDefaultNotes,
  async run(config, io, ctx) {
    await runTraining(config, io, { command: 'train', explicit: ctx.explicit });
  },
};
