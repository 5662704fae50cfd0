// The command table: each command is loaded lazily (so `--help` and config errors stay fast).
import type { CommandTable } from '../cli-core.js';

/** All `atmanrl` commands. */
export const COMMANDS: CommandTable = {
  sft: async () => (await import('./sft.js')).sftCommand,
  train: async () => (await import('./train.js')).trainCommand,
  saliency: async () => (await import('./saliency.js')).saliencyCommand,
  eval: async () => (await import('./eval.js')).evalCommand,
  view: async () => (await import('./view.js')).viewCommand,
  demo: async () => (await import('./demo.js')).demoCommand,
  experiment: async () => (await import('./experiment.js')).experimentCommand,
  worker: async () => (await import('./worker.js')).workerCommand,
};
