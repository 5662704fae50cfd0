// The CLI's dispatcher: `atmanrl <command> [--config file] [--flags] [--dry-run]`.
// Commands only compose package APIs; this file maps errors to exit codes (0 ok, 1 user, 2 internal).
import { packageVersions } from './_internal/versions.js';
import {
  type CommandName,
  closest,
  combinationProblems,
  optionsTable,
  parseArgv,
  type RunConfig,
  resolveConfigWithKeys,
} from './config.js';
import { toUserError, UsageError } from './errors.js';

/** Where a command writes: injectable so tests can call commands with argv in-process. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  /** True when stdout is a terminal (progress bars); otherwise one line per step. */
  isTTY: boolean;
  /** On a TTY, rewrite the transient status line (progress bar); elsewhere a no-op. */
  status?(text: string): void;
}

/** A problem of a resolved configuration: the flag it concerns (null: none) and what to fix. */
export interface ConfigProblem {
  flag: string | null;
  message: string;
}

/** A command: its description, its config overrides, its own checks, and what it runs. */
export interface CommandDef {
  description: string;
  /** Per-command defaults layered between the global defaults and `--config`. */
  defaults?: Partial<RunConfig>;
  /**
   * The command's own checks of the resolved config (beyond each option's type and the option
   * combinations), run before anything is written and under `--dry-run`.
   */
  validate?(config: RunConfig): Promise<ConfigProblem[]>;
  /**
   * Lines for stderr before the command runs (also under `--dry-run`, whose stdout stays the
   * config); `defaults` are the command's {@link CommandDef.defaults}.
   */
  notes?(
    config: RunConfig,
    explicit: ReadonlySet<string>,
    defaults: Partial<RunConfig>,
  ): Promise<string[]>;
  /**
   * When true, `--config` names this command's own file (e.g. an experiment definition) and is
   * passed in `ctx.configFile` instead of being merged into the run config.
   */
  ownsConfigFile?: boolean;
  /**
   * Runs the command. Its exit code, when it has one of its own (e.g. `experiment` stopped by a
   * signal exits with its jobs' status); none means 0. Errors map to 1 (user) or 2 (internal).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a command without an exit code of its own is an async function returning nothing (Promise<void>)
  run(config: RunConfig, io: CliIO, ctx: CommandContext): Promise<number | void>;
}

/** What a command gets besides the resolved config. */
export interface CommandContext {
  positionals: string[];
  /** Config keys the user set explicitly (file or flags). */
  explicit: ReadonlySet<string>;
  /** The `--config` path when the command owns it ({@link CommandDef.ownsConfigFile}). */
  configFile: string | null;
}

/** Loads a command module lazily so `--help` and config errors stay fast. */
export type CommandTable = Record<CommandName, () => Promise<CommandDef>>;

function usage(commands: CommandTable): string {
  return [
    'usage: atmanrl <command> [--config file.(json|yaml)] [--<option> value ...] [--dry-run]',
    '',
    'commands:',
    ...Object.keys(commands).map((c) => `  ${c}`),
    '',
    'Every option is a kebab-case flag mapping to one config key; `--dry-run` prints the resolved',
    'config. `atmanrl <command> --help` lists that command’s options; `atmanrl --version`.',
  ].join('\n');
}

/** Runs the CLI with `argv` (without `node` and the script). Returns the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIO,
  commands: CommandTable,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage(commands));
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    const v = packageVersions();
    io.out(`atmanrl ${v['@atmanrl/trainer']} (node ${v['node']})`);
    return 0;
  }
  const load = (commands as Record<string, (() => Promise<CommandDef>) | undefined>)[name];
  if (load === undefined) {
    const hint = closest(name, Object.keys(commands));
    io.err(
      `atmanrl: unknown command "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}.\n\n${usage(commands)}`,
    );
    return 1;
  }
  try {
    const command = await load();
    const problems: string[] = [];
    const parsed = parseArgv(rest, problems);
    if (parsed.help) {
      io.out(
        `atmanrl ${name}: ${command.description}\n\n${optionsTable(name as CommandName)}\n\nEvery flag maps to one config key (\`--config file.(json|yaml)\` first, flags override); \`atmanrl --help\` lists the commands.`,
      );
      return 0;
    }
    const ownFile = command.ownsConfigFile ? parsed.configFile : null;
    if (command.ownsConfigFile) parsed.configFile = null;
    const { config, explicit, warnings } = resolveConfigWithKeys(
      parsed,
      command.defaults ?? {},
      problems,
    );
    // TRL keys the file sets that atmanrl ignores, with what it does instead (stderr: --dry-run's
    // stdout stays the JSON config).
    for (const w of warnings) io.err(`atmanrl: warning: ${w}`);
    const combos: ConfigProblem[] = combinationProblems(config, name as CommandName, explicit).map(
      (message) => ({ flag: null, message }),
    );
    if (combos.length === 0 && command.validate) combos.push(...(await command.validate(config)));
    if (combos.length > 0) {
      const text = combos.map((p) => (p.flag === null ? p.message : `${p.flag}: ${p.message}`));
      const flags = [...new Set(combos.map((p) => p.flag))];
      throw new UsageError(
        'BAD_CONFIG',
        `invalid configuration (${combos.length} problem${combos.length > 1 ? 's' : ''}):\n  ${text.join('\n  ')}`,
        flags.length === 1 && flags[0] !== null ? { flag: flags[0] } : {},
      );
    }
    // e.g. the runs of train/demo (and each training child of an experiment, in its log) start
    // with the defaults that differ from the grpo library's, for options the user did not set.
    if (command.notes) {
      const lines = await command.notes(config, explicit, command.defaults ?? {});
      if (lines.length > 0) io.err(lines.join('\n'));
    }
    if (parsed.dryRun) {
      if (config.numTrainEpochs !== null && config.resume === null)
        io.err(
          `atmanrl: note: maxSteps is set from --num-train-epochs ${config.numTrainEpochs} when the task is loaded (ceil(epochs × floor(prompts / promptsPerStep)))`,
        );
      io.out(JSON.stringify(config, null, 2));
      return 0;
    }
    const code = await command.run(config, io, {
      positionals: parsed.positionals,
      explicit,
      configFile: ownFile,
    });
    return code ?? 0;
  } catch (e) {
    const user = toUserError(e);
    if (user !== null) {
      io.err(`atmanrl ${name}: ${user.message}`);
      if (user.code === 'BAD_CONFIG' || user.code === 'BAD_FLAG')
        io.err(`\nRun \`atmanrl ${name} --help\` for the options.`);
      return 1;
    }
    const err = e as Error;
    io.err(
      `atmanrl ${name}: internal error: ${err.message}\n${err.stack ?? ''}\nPlease report this with the command you ran.`,
    );
    return 2;
  }
}
