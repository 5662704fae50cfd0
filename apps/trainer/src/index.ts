// @atmanrl/trainer: the atmanrl CLI's programmatic face (commands callable with argv, in-process).
export {
  type CliIO,
  type CommandContext,
  type CommandDef,
  type CommandTable,
  runCli,
} from './cli-core.js';
export { COMMANDS } from './commands/index.js';
export {
  type CommandName,
  ConfigSchema,
  defaultConfig,
  OPTIONS,
  type OptionSpec,
  optionsTable,
  type RunConfig,
} from './config.js';
export { type TrainerErrorCode, UsageError } from './errors.js';
