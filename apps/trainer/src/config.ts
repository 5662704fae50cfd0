// The one configuration schema of a run: a table of options (data), from which the zod schema,
// the kebab-case flags, `--dry-run` output and the README table are all derived.
// Resolution order: defaults < `--config file.(json|yaml)` < flags. Every problem is reported.
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { MAX_LISTED_UNKNOWN, translateTrlConfig } from './_internal/trl-config.js';
import { UsageError } from './errors.js';
import {
  type CommandName,
  closest,
  fromFlag,
  OPTIONS,
  type OptionSpec,
  toFlag,
} from './options.js';

export {
  type CommandName,
  closest,
  fromFlag,
  OPTIONS,
  type OptionSpec,
  type OptionType,
  toFlag,
} from './options.js';

function zodFor(spec: OptionSpec): z.ZodType {
  const t = spec.type;
  let base: z.ZodType;
  switch (t.kind) {
    case 'number': {
      let n = z.number();
      if (t.min !== undefined) n = n.min(t.min);
      if (t.max !== undefined) n = n.max(t.max);
      base = n;
      break;
    }
    case 'integer':
      base = z
        .number()
        .int()
        .min(t.min ?? 0);
      break;
    case 'string':
      base =
        t.pattern === undefined
          ? z.string()
          : z.string().regex(t.pattern, `expected ${t.expected ?? `a match of ${t.pattern}`}`);
      break;
    case 'boolean':
      base = z.boolean();
      break;
    case 'enum':
      base = z.enum(t.values as [string, ...string[]]);
      break;
  }
  return spec.default === null ? base.nullable() : base;
}

/** The zod shape of a full configuration: each option's schema, typed by its value type. */
type ConfigShape = { [K in keyof RunConfig]-?: z.ZodType<RunConfig[K]> };

/** The zod schema of a full configuration (parses to a {@link RunConfig}); unknown keys are errors. */
export const ConfigSchema = z.strictObject(
  Object.fromEntries(OPTIONS.map((o) => [o.key, zodFor(o)])) as ConfigShape,
);

/** {@link ConfigSchema} with every key optional (e.g. an experiment's per-arm keys). */
export const PartialConfigSchema = ConfigSchema.partial();

/** The value type of one option type. */
type ValueOf<T> = T extends { kind: 'number' | 'integer' }
  ? number
  : T extends { kind: 'string' }
    ? string
    : T extends { kind: 'boolean' }
      ? boolean
      : T extends { kind: 'enum'; values: readonly (infer V)[] }
        ? V
        : never;

/**
 * A fully resolved configuration (every key present), inferred from {@link OPTIONS}: a key's
 * type is its option type, `| null` when its default is null. The table is the single source.
 */
export type RunConfig = {
  -readonly [S in (typeof OPTIONS)[number] as S['key']]: S['default'] extends null
    ? ValueOf<S['type']> | null
    : ValueOf<S['type']>;
};

/** Default configuration (the paper's values where it gives them). */
export function defaultConfig(): RunConfig {
  return Object.fromEntries(OPTIONS.map((o) => [o.key, o.default])) as RunConfig;
}

const BY_KEY = new Map<string, OptionSpec>(OPTIONS.map((o) => [o.key, o]));

/** Parsed command line: options given as flags, plus CLI-only switches. */
export interface ParsedArgs {
  flags: Record<string, unknown>;
  positionals: string[];
  configFile: string | null;
  dryRun: boolean;
  help: boolean;
}

function coerceFlag(
  spec: OptionSpec,
  raw: string | true,
  flag: string,
  problems: string[],
): unknown {
  const t = spec.type;
  if (t.kind === 'boolean') {
    if (raw === true || raw === 'true') return true;
    if (raw === 'false') return false;
    problems.push(`--${flag}: expected true or false, got "${raw}"`);
    return undefined;
  }
  if (raw === true) {
    problems.push(`--${flag}: needs a value (--${flag} <value> or --${flag}=<value>)`);
    return undefined;
  }
  if (raw === 'null' && spec.default === null) return null;
  if (t.kind === 'number' || t.kind === 'integer') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) {
      problems.push(`--${flag}: expected a number, got "${raw}"`);
      return undefined;
    }
    return n;
  }
  return raw;
}

/** Closest option keys to `key` (for "did you mean" hints). */
function suggest(key: string): string | null {
  return closest(
    key,
    OPTIONS.map((o) => o.key),
  );
}

/** Parses argv (after the command name). Unknown flags and bad values are collected, not thrown. */
export function parseArgv(argv: readonly string[], problems: string[]): ParsedArgs {
  const out: ParsedArgs = {
    flags: {},
    positionals: [],
    configFile: null,
    dryRun: false,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') continue; // `pnpm start -- --max-steps 2` forwards a literal `--`
    if (!arg.startsWith('--')) {
      if (arg === '-h') out.help = true;
      else out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | true = eq >= 0 ? arg.slice(eq + 1) : true;
    if (flag === 'help') {
      out.help = true;
      continue;
    }
    if (flag === 'dry-run') {
      out.dryRun = true;
      continue;
    }
    const key = fromFlag(flag);
    const spec = flag === 'config' ? null : BY_KEY.get(key);
    const takesValue = flag === 'config' || (spec !== undefined && spec?.type.kind !== 'boolean');
    const next = argv[i + 1];
    if (value === true && takesValue && next !== undefined && !next.startsWith('--')) {
      value = next;
      i++;
    } else if (
      value === true &&
      spec?.type.kind === 'boolean' &&
      (next === 'true' || next === 'false')
    ) {
      value = next;
      i++;
    }
    if (flag === 'config') {
      if (value === true) problems.push('--config: needs a file path');
      else out.configFile = value;
      continue;
    }
    if (spec === undefined || spec === null || flag !== toFlag(key)) {
      const hint = suggest(key);
      problems.push(
        `--${flag}: unknown option${hint ? ` (did you mean --${toFlag(hint)}?)` : ''}; see \`atmanrl <command> --help\``,
      );
      continue;
    }
    const v = coerceFlag(spec, value, flag, problems);
    if (v !== undefined) out.flags[key] = v;
  }
  return out;
}

/**
 * Reads a `--config` file, parsed by its extension (`.json`; `.yaml`/`.yml`; anything else is an
 * error). Keys may be camelCase, kebab-case, or TRL `GRPOConfig` snake_case names (translated by
 * `_internal/trl-config.ts`; TRL keys atmanrl ignores are added to `warnings`).
 */
export function readConfigFile(
  path: string,
  problems: string[],
  warnings: string[] = [],
  origin: ConfigOrigin = {},
): Record<string, unknown> {
  const ext = extname(path).toLowerCase();
  const format = ext === '.json' ? 'JSON' : ext === '.yaml' || ext === '.yml' ? 'YAML' : null;
  if (format === null) {
    problems.push(
      `--config ${path}: unknown file type "${ext || '(none)'}"; use a .json, .yaml or .yml file`,
    );
    return {};
  }
  let text: string;
  try {
    // The size first: a huge file would fail to read as one string, and say nothing useful.
    const size = statSync(path).size;
    if (size > MAX_CONFIG_BYTES) {
      problems.push(
        `--config ${path}: the file is ${formatBytes(size)}, over the ${formatBytes(MAX_CONFIG_BYTES)} a config file may have; a config is a small mapping of option: value (is this the right file?)`,
      );
      return {};
    }
    text = readFileSync(path, 'utf8');
  } catch {
    problems.push(`--config: cannot read ${path}: the file does not exist or is not readable`);
    return {};
  }
  let value: unknown;
  try {
    value = format === 'JSON' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    problems.push(`${path}: not valid ${format}: ${(e as Error).message.split('\n')[0]}`);
    return {};
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${path}: expected a mapping of option: value`);
    return {};
  }
  // JSON.parse and YAML keep `__proto__` as an own key; copied into an object it would set the
  // prototype (and vanish): it is an unknown option like any other.
  const entries = Object.entries(value);
  if (entries.some(([k]) => k === '__proto__')) problems.push(`${path}: __proto__: unknown option`);
  const t = translateTrlConfig(
    Object.fromEntries(entries.filter(([k]) => k !== '__proto__')),
    path,
  );
  problems.push(...t.problems);
  warnings.push(...t.warnings);
  Object.assign(origin, t.origin);
  return t.config;
}

/** Our key -> the config file's key that set it and the file's value (see `translateTrlConfig`). */
export type ConfigOrigin = Record<string, { key: string; value: unknown }>;

/** Largest config file read (a config is a small mapping; anything larger is the wrong file). */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${n} bytes`;
}

/** A value as the user wrote it: JSON, but NaN and ±Infinity as YAML spells them. */
function shown(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v))
    return Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
  return JSON.stringify(v) ?? String(v);
}

/**
 * Resolves defaults < config file < flags, validates everything with the schema and throws one
 * `UsageError` listing every problem as `path: message`.
 */
export function resolveConfig(
  parsed: ParsedArgs,
  overrides: Partial<RunConfig> = {},
  earlier: string[] = [],
): RunConfig {
  return resolveConfigWithKeys(parsed, overrides, earlier).config;
}

/**
 * {@link resolveConfig}, also returning the keys the user set explicitly (config file or flags),
 * e.g. to let `--resume` override them, and the config file's warnings (TRL keys it ignores).
 */
export function resolveConfigWithKeys(
  parsed: ParsedArgs,
  overrides: Partial<RunConfig> = {},
  earlier: string[] = [],
): { config: RunConfig; explicit: Set<string>; warnings: string[] } {
  const problems = [...earlier];
  const warnings: string[] = [];
  const origin: ConfigOrigin = {};
  const fromFile = parsed.configFile
    ? readConfigFile(parsed.configFile, problems, warnings, origin)
    : {};
  const merged = { ...defaultConfig(), ...overrides, ...fromFile, ...parsed.flags };
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        // A long list is cut: the first keys with their did-you-mean, then the count.
        for (const k of issue.keys.slice(0, MAX_LISTED_UNKNOWN)) {
          const hint = suggest(k);
          problems.push(
            `${parsed.configFile ?? 'config'}: ${k}: unknown option${hint ? ` (did you mean ${hint}?)` : ''}`,
          );
        }
        if (issue.keys.length > MAX_LISTED_UNKNOWN)
          problems.push(
            `${parsed.configFile ?? 'config'}: ${issue.keys.length - MAX_LISTED_UNKNOWN} more unknown options (${issue.keys.length} in all; the first ${MAX_LISTED_UNKNOWN} are listed)`,
          );
      } else {
        const key = String(issue.path[0] ?? '');
        const spec = BY_KEY.get(key);
        const fromFlags = key in parsed.flags;
        const inFile = parsed.configFile !== null && key in fromFile;
        // A file value is named as the file writes it (its key, its value), and, when the
        // translation changed the value (TRL update counts), what it was read as.
        const source = inFile && !fromFlags ? origin[key] : undefined;
        const value = (merged as Record<string, unknown>)[key];
        const name = !spec
          ? issue.path.join('.')
          : fromFlags
            ? `--${toFlag(key)}`
            : inFile
              ? `${parsed.configFile}: ${source?.key ?? key}`
              : key;
        const translated = source !== undefined && !Object.is(source.value, value);
        const given = source
          ? `${shown(source.value)}${translated ? `, read as ${key} ${shown(value)}` : ''}`
          : shown(value);
        problems.push(
          spec?.type.kind === 'enum'
            ? `${name}: ${given} is not one of ${spec.type.values.join(', ')}${closest(String((merged as Record<string, unknown>)[key]), spec.type.values) ? ` (did you mean ${closest(String((merged as Record<string, unknown>)[key]), spec.type.values)}?)` : ''}`
            : `${name || '(config)'}: ${issue.message}${spec ? ` (got ${given})` : ''}`,
        );
      }
    }
  }
  if (!result.success || problems.length > 0) {
    throw new UsageError(
      'BAD_CONFIG',
      `invalid configuration (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n  ${problems.join('\n  ')}`,
    );
  }
  const explicit = new Set([...Object.keys(fromFile), ...Object.keys(parsed.flags)]);
  return { config: result.data, explicit, warnings };
}

/** Commands that run GRPO and so need a valid GRPO combination of options. */
const GRPO_COMMANDS: readonly CommandName[] = ['train', 'demo', 'experiment'];

/**
 * Problems of option combinations that each option alone cannot show, as `--flag: message` lines
 * with the fix; checked before anything is written (also by `--dry-run`).
 */
export function combinationProblems(
  config: RunConfig,
  command: CommandName,
  explicit: ReadonlySet<string> = new Set(),
): string[] {
  const out: string[] = [];
  if (config.dataset === 'synthetic' && config.syntheticTask === 'modes') {
    const sum = config.modeMixTerse + config.modeMixVerbose + config.modeMixBypass;
    if (Math.abs(sum - 1) > 1e-6)
      out.push(
        `--mode-mix-terse/--mode-mix-verbose/--mode-mix-bypass: the shares sum to ${sum}; make them sum to 1`,
      );
    if (config.modeMixBypass > config.syntheticGuessableFraction + 1e-9)
      out.push(
        `--mode-mix-bypass ${config.modeMixBypass} exceeds --synthetic-guessable-fraction ${config.syntheticGuessableFraction}; bypass CoTs are written for guessable problems only, so raise the fraction or lower the share`,
      );
  }
  if (!GRPO_COMMANDS.includes(command)) return out;
  if (config.numGenerations < 2)
    out.push(
      `--num-generations ${config.numGenerations}: GRPO needs at least 2 completions per prompt (a group of one has advantage 0); use 2 or more`,
    );
  const n = config.promptsPerStep * config.numGenerations;
  if (n % config.gradientAccumulationSteps !== 0)
    out.push(
      `--gradient-accumulation-steps ${config.gradientAccumulationSteps}: the ${config.promptsPerStep} × ${config.numGenerations} = ${n} completions of a step do not split into that many equal micro-batches; use a divisor of ${n}`,
    );
  if (!(config.temperature > 0))
    out.push(
      `--temperature ${config.temperature}: GRPO samples its completions, so the temperature must be > 0 (the paper and TRL use 1)`,
    );
  if (config.numTrainEpochs !== null && explicit.has('maxSteps') && config.resume === null)
    out.push(
      `--num-train-epochs ${config.numTrainEpochs} and --max-steps ${config.maxSteps} both set the run length; give one of them`,
    );
  if (config.numTrainEpochs !== null && !(config.numTrainEpochs > 0))
    out.push(`--num-train-epochs ${config.numTrainEpochs}: must be > 0 (or null for --max-steps)`);
  if (!(config.topEntropyQuantile > 0))
    out.push(
      `--top-entropy-quantile ${config.topEntropyQuantile}: must be in (0, 1] (1 = train on every token)`,
    );
  if (config.maxTokensPerMicroBatch !== null && config.topEntropyQuantile < 1)
    out.push(
      `--max-tokens-per-micro-batch ${config.maxTokensPerMicroBatch} with --top-entropy-quantile ${config.topEntropyQuantile}: the entropy quantile is taken over a whole micro-batch, which the token budget splits; drop --max-tokens-per-micro-batch (use --gradient-accumulation-steps) or set --top-entropy-quantile 1`,
    );
  if (config.epsilonHigh !== null && config.epsilonHigh < config.epsilon)
    out.push(
      `--epsilon-high ${config.epsilonHigh} is below --epsilon ${config.epsilon}; the upper clip must be at least the lower one (or null for the same value)`,
    );
  return out;
}

/** Which commands read each group of options (for `<command> --help`). */
const GROUP_COMMANDS: Record<OptionSpec['group'], readonly CommandName[]> = {
  run: ['sft', 'train', 'saliency', 'eval', 'demo'],
  model: ['sft', 'train', 'saliency', 'eval', 'demo'],
  data: ['sft', 'train', 'saliency', 'eval', 'demo'],
  grpo: ['train', 'demo'],
  reward: ['train', 'demo'],
  saliency: ['train', 'saliency', 'eval', 'demo'],
  sft: ['sft'],
  eval: ['eval', 'demo'],
};
/** Options read by commands outside their group's list, or by fewer. */
const KEY_COMMANDS: Partial<Record<string, readonly CommandName[]>> = {
  port: ['view'],
  export: ['view'],
  resume: ['train', 'demo'],
  checkpointEvery: ['train', 'demo'],
  logSamplesEvery: ['train', 'demo'],
  probePrompts: ['train', 'demo'],
  workers: ['train', 'demo'],
  queue: ['train', 'demo', 'experiment', 'worker'],
  queueTimeout: ['train', 'demo', 'experiment'],
  queueWeightsDir: ['train', 'demo', 'experiment', 'worker'],
  concurrency: ['worker'],
  out: ['sft'],
  force: ['sft'],
  reportOnly: ['experiment'],
  traces: ['saliency'],
  maxSteps: ['train', 'demo'],
  numTrainEpochs: ['train', 'demo'],
  loggingSteps: ['train', 'demo'],
  logCompletions: ['train', 'demo'],
  numCompletionsToPrint: ['train', 'demo'],
  saveTotalLimit: ['train', 'demo'],
  evalSteps: ['train', 'demo'],
  shuffleDataset: ['train', 'demo'],
  maxPromptLength: ['train', 'demo'],
  maxCompletionLength: ['train', 'demo', 'saliency', 'eval'],
  temperature: ['train', 'demo', 'eval'],
  evalLimit: ['eval', 'demo', 'sft'],
  maxTokensPerMicroBatch: ['train', 'demo', 'saliency', 'eval'],
  recompute: ['train', 'demo'],
  backend: ['sft', 'train', 'saliency', 'eval', 'demo', 'experiment', 'worker'],
};

/** The options `command` reads (`experiment` reads its file; its arms carry train/eval keys). */
export function optionsFor(command: CommandName): OptionSpec[] {
  return OPTIONS.filter((o) => (KEY_COMMANDS[o.key] ?? GROUP_COMMANDS[o.group]).includes(command));
}

/**
 * Markdown table of the options (for the README: all of them; for `<command> --help`: the
 * command's own).
 */
export function optionsTable(command?: CommandName): string {
  const rows = (command === undefined ? [...OPTIONS] : optionsFor(command)).map((o) => {
    const t = o.type.kind === 'enum' ? o.type.values.join(' \\| ') : o.type.kind;
    return `| \`--${toFlag(o.key)}\` | ${t} | \`${JSON.stringify(o.default)}\` | ${o.source} | ${o.doc} |`;
  });
  return [
    '| flag | type | default | default from | meaning |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** One option whose value in effect differs from the `@atmanrl/grpo` library's default. */
export interface DefaultDifference {
  key: string;
  /** The `@atmanrl/grpo` key. */
  grpo: string;
  value: unknown;
  grpoDefault: unknown;
  /** Where our value comes from: the option's `source`, or the command's defaults. */
  source: string;
}

/**
 * The options mapped to grpo config keys ({@link OptionSpec.grpo}) whose value differs from
 * `grpoDefaults` (grpo's `GRPO_DEFAULTS`) although the user did not set them: the CLI's (or the
 * command's) defaults that a library user would not get. Derived from the option table; grpo keys
 * without a library default (undefined) are skipped.
 */
export function defaultDifferences(
  config: RunConfig,
  explicit: ReadonlySet<string>,
  grpoDefaults: Readonly<Record<string, unknown>>,
  commandDefaults: Partial<RunConfig> = {},
): DefaultDifference[] {
  const out: DefaultDifference[] = [];
  for (const o of OPTIONS as readonly OptionSpec[]) {
    if (o.grpo === undefined || explicit.has(o.key) || !(o.grpo in grpoDefaults)) continue;
    const lib = grpoDefaults[o.grpo];
    if (lib === undefined) continue;
    const value = (config as Record<string, unknown>)[o.key];
    if (JSON.stringify(value ?? null) === JSON.stringify(lib ?? null)) continue;
    out.push({
      key: o.key,
      grpo: o.grpo,
      value,
      grpoDefault: lib,
      source: o.key in commandDefaults ? 'command default' : o.source,
    });
  }
  return out;
}

/** The start-up lines of {@link defaultDifferences} (empty when there is none). */
export function formatDefaultDifferences(diffs: readonly DefaultDifference[]): string[] {
  if (diffs.length === 0) return [];
  return [
    'atmanrl: defaults that differ from @atmanrl/grpo (set them to silence this):',
    ...diffs.map(
      (d) =>
        `  --${toFlag(d.key)} ${JSON.stringify(d.value)} (grpo: ${JSON.stringify(d.grpoDefault)}; from ${d.source})`,
    ),
  ];
}

/**
 * The `@atmanrl/grpo` options of a run, from the options' {@link OptionSpec.grpo} keys; null
 * values are omitted (grpo's default). An option that `grpoDefaults` (the installed grpo's
 * `GRPO_DEFAULTS`) does not know passes only at its default (omitted); any other value is a
 * `BAD_CONFIG` user error naming the flag.
 */
export function grpoInput(
  config: RunConfig,
  grpoDefaults: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of OPTIONS as readonly OptionSpec[]) {
    if (o.grpo === undefined) continue;
    const v = (config as Record<string, unknown>)[o.key];
    if (v === null || v === undefined) continue;
    if (!(o.grpo in grpoDefaults)) {
      if (JSON.stringify(v) === JSON.stringify(o.default)) continue;
      throw new UsageError(
        'BAD_CONFIG',
        `--${toFlag(o.key)} ${JSON.stringify(v)}: the installed @atmanrl/grpo has no '${o.grpo}' option; upgrade @atmanrl/grpo, or leave --${toFlag(o.key)} at ${JSON.stringify(o.default)}`,
      );
    }
    out[o.grpo] = v;
  }
  return out;
}

/** The flag of the option that sets grpo key `grpoKey` (for grpo's messages), or null. */
export function flagOfGrpoKey(grpoKey: string): string | null {
  const o = (OPTIONS as readonly OptionSpec[]).find((x) => x.grpo === grpoKey);
  return o === undefined ? null : `--${toFlag(o.key)}`;
}
