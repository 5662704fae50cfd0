// `atmanrl experiment --config experiments/<name>.yaml`: arms × seeds of AtManRL GRPO from one
// starting model, evaluated before and after, with a report (see _internal/experiment.ts).

import {
  type ExperimentOutcome,
  jobStatus,
  readExperiment,
  runExperiment,
  writeExperimentReport,
} from '../_internal/experiment.js';
import type { CommandDef } from '../cli-core.js';
import { UsageError } from '../errors.js';

/** The `experiment` command. */
export const experimentCommand: CommandDef = {
  description:
    'run an experiment file (arms × seeds of GRPO + evals) and write its report (--report-only: the report of the finished jobs, running none)',
  ownsConfigFile: true,
  async run(config, io, ctx) {
    if (ctx.configFile === null) {
      throw new UsageError(
        'BAD_CONFIG',
        '--config experiments/<name>.yaml is required (see experiments/small-cpu.yaml)',
      );
    }
    const exp = readExperiment(ctx.configFile);
    let interrupted: ExperimentOutcome['interrupted'] = null;
    if (config.reportOnly) {
      const status = jobStatus(exp, ctx.configFile);
      const left = status.filter((j) => !j.finished).map((j) => j.id);
      io.out(
        `experiment ${exp.name}: ${status.length - left.length} of ${status.length} jobs finished; report only, none run${left.length > 0 ? ` (not finished: ${left.join(', ')})` : ''}`,
      );
      for (const j of status.filter((x) => x.damaged !== null))
        io.err(`atmanrl experiment: job ${j.id} is damaged: ${j.damaged}`);
    } else {
      // --queue, --queue-timeout, --queue-weights-dir: passed on to every training job.
      const queue = Object.fromEntries(
        (['queue', 'queueTimeout', 'queueWeightsDir'] as const)
          .filter((k) => ctx.explicit.has(k))
          .map((k) => [k, config[k]]),
      );
      interrupted = (await runExperiment(exp, ctx.configFile, (l) => io.out(l), { queue }))
        .interrupted;
    }
    const report = writeExperimentReport(
      exp,
      ctx.configFile,
      `pnpm build && pnpm atmanrl experiment --config ${ctx.configFile}`,
    );
    io.out(`report: ${report}`);
    // Stopped by a signal: exit with the status of the jobs it stopped (0 when they all
    // checkpointed).
    return interrupted?.status;
  },
};
