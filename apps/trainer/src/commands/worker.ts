// `atmanrl worker --queue redis://… [--backend …] [--concurrency N]`: a queue worker for trainers
// run with the same `--queue`; on any machine that reaches the Redis server. Runs until SIGINT or
// SIGTERM, printing jobs done, fits/s and the weights version it holds.
import { runQueueWorker } from '../_internal/queue/index.js';
import type { CommandDef } from '../cli-core.js';
import { UsageError } from '../errors.js';

/** The `worker` command. */
export const workerCommand: CommandDef = {
  description:
    'take rollout and mask-fit jobs from the Redis queue of `train/demo/experiment --queue` and run them (any number of machines)',
  async run(config, io) {
    if (config.queue === null) {
      throw new UsageError(
        'BAD_CONFIG',
        '--queue is required: the Redis URL the trainer was given, e.g. atmanrl worker --queue redis://:secret@10.0.0.5:6379/0 (rediss:// for TLS)',
      );
    }
    await runQueueWorker(
      {
        url: config.queue,
        backend: config.backend,
        concurrency: config.concurrency,
        ...(config.queueWeightsDir === null ? {} : { weightsDir: config.queueWeightsDir }),
      },
      (line) => io.out(line),
    );
  },
};
