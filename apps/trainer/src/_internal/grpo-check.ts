// The checks and start-up notes of the commands that train with GRPO (`train`, `demo`), declared
// by those commands (CommandDef.validate / notes): grpo's own validation of the run's options,
// its error told as the flag it concerns, and the defaults that differ from the grpo library's.
import type { ConfigProblem } from '../cli-core.js';
import {
  defaultDifferences,
  flagOfGrpoKey,
  formatDefaultDifferences,
  grpoInput,
  type RunConfig,
} from '../config.js';

/**
 * grpo's own checks of the run's GRPO options (e.g. `--delta` > 1 + `--epsilon-high`), before
 * anything is written: its `BAD_CONFIG` error as a problem of the flag it names.
 */
export async function grpoProblems(config: RunConfig): Promise<ConfigProblem[]> {
  const grpo = await import('@atmanrl/grpo');
  try {
    grpo.resolveGrpoConfig(grpoInput(config, grpo.GRPO_DEFAULTS));
    return [];
  } catch (e) {
    if (!(e instanceof grpo.GrpoError) || e.code !== 'BAD_CONFIG') throw e;
    return [{ flag: e.option === undefined ? null : flagOfGrpoKey(e.option), message: e.message }];
  }
}

/**
 * The start-up lines of a new GRPO run: the defaults that differ from the grpo library's, for
 * options the user did not set (none when resuming); `commandDefaults` are named as such.
 */
export async function grpoDefaultNotes(
  config: RunConfig,
  explicit: ReadonlySet<string>,
  commandDefaults: Partial<RunConfig>,
): Promise<string[]> {
  if (config.resume !== null) return [];
  const { GRPO_DEFAULTS } = await import('@atmanrl/grpo');
  return formatDefaultDifferences(
    defaultDifferences(config, explicit, GRPO_DEFAULTS, commandDefaults),
  );
}
