// `--resume`: which options may change when a run is continued, and how. A resumed run uses the
// configuration stored in its run.json; an option given explicitly (flag or --config file) is
// either allowed to change it (RESUMABLE: stored back into run.json, with a history entry per
// resume) or, when it differs from the stored value, refused with exit 1 naming the option.
// `--resume <run>/checkpoints/step-N` resumes from that (older) checkpoint instead of latest.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type Machine, RunWriter, thisMachine } from '@atmanrl/runs/node';
import { ConfigSchema, defaultConfig, type RunConfig, toFlag } from '../config.js';
import { UsageError } from '../errors.js';
import { type LoadedCheckpoint, readLatestCheckpoint } from './checkpoint.js';
import { configForRunJson, isRedactedQueueUrl, redactQueueUrl } from './queue/redact.js';

/**
 * Options that may change on `--resume`; every other option is fixed by the run's first start,
 * because it changes the trajectory so far (model, data, GRPO and saliency hyper-parameters, seed)
 * or has no meaning for a resumed run (`runsDir`, `runName`: the folder is `--resume`'s).
 * - `maxSteps`: extend (or shorten) the run; persists, so a later plain `--resume` keeps it.
 * - `checkpointEvery`, `logSamplesEvery`: how often to save and log; no effect on the numbers.
 * - `backend`: where to compute; results stay valid but are bit-exact only on the same backend.
 * - `loggingSteps`, `logCompletions`, `numCompletionsToPrint`, `saveTotalLimit`, `evalSteps`,
 *   `evalLimit`: what is printed, kept and evaluated along the way; no effect on the trajectory.
 * - `maxTokensPerMicroBatch`, `recompute`: memory knobs (a run that ran out of memory resumes with
 *   a smaller budget); the same gradients, bit-exact only with the same values, like `backend`.
 * - `workers`: how many threads run the rollouts and mask fits. The cut into jobs and their seeds
 *   do not depend on it, so results do not either (tested); fewer workers is the natural fix after
 *   running out of memory (issue 35).
 * - `generationBatchSize`: completions per generation pass (a memory knob for long prompts); the
 *   pass rows do not change the sampled completions (tested), so it may change like the others.
 * - `queue`, `queueTimeout`, `queueWeightsDir`: where the jobs run (`atmanrl worker` processes
 *   through Redis, or this machine's threads). A job is a pure record with its own seed, so results
 *   do not depend on where or on how many workers it runs. run.json keeps `queue` without its
 *   password: a resume gives the URL again, and the same URL is not a change.
 */
export const RESUMABLE: readonly (keyof RunConfig)[] = [
  'maxSteps',
  'checkpointEvery',
  'logSamplesEvery',
  'backend',
  'loggingSteps',
  'logCompletions',
  'numCompletionsToPrint',
  'saveTotalLimit',
  'evalSteps',
  'evalLimit',
  'maxTokensPerMicroBatch',
  'recompute',
  'workers',
  'generationBatchSize',
  'queue',
  'queueTimeout',
  'queueWeightsDir',
];

/** Keys that are never compared (the resume flag itself, and CLI-only switches). */
const NOT_COMPARED: ReadonlySet<string> = new Set(['resume', 'force']);

/** One entry of run.json's `resumes` history. */
export interface ResumeRecord {
  /** When the resume started (ISO time). */
  at: string;
  /** Step of the checkpoint resumed from. */
  fromStep: number;
  /** Checkpoint folder resumed from, relative to the run. */
  checkpoint: string;
  /** Options changed by this resume: `{ maxSteps: { from: 4, to: 8 } }`. */
  changes: Record<string, { from: unknown; to: unknown }>;
  /** The machine this resume runs on. */
  machine: Machine;
}

/** What {@link openResume} returns. */
export interface OpenedResume {
  run: RunWriter;
  config: RunConfig;
  checkpoint: LoadedCheckpoint;
  changes: ResumeRecord['changes'];
  /** Warnings to print (removed temp files). */
  notes: string[];
}

/**
 * Options added after runs were written whose default is not what those runs did: a stored config
 * without the key is read with this value. `syntheticSplit` (issue 29): runs before it drew every
 * synthetic split from its own seed's stream (`'seed'`), so resuming one must not switch its data to
 * the content-held-out split that new runs default to.
 */
export const BEFORE_ADDED: Readonly<Partial<RunConfig>> = { syntheticSplit: 'seed' };

/**
 * The configuration of a resumed run: the stored one (options added since it was written take
 * their defaults), with the explicitly given RESUMABLE options applied. Throws `RESUME_CONFLICT`
 * naming every other explicit option whose value differs from the stored one.
 */
export function resumedConfig(
  stored: Record<string, unknown>,
  given: RunConfig,
  explicit: ReadonlySet<string>,
  where: string,
): { config: RunConfig; changes: ResumeRecord['changes'] } {
  const parsed = ConfigSchema.safeParse({ ...defaultConfig(), ...BEFORE_ADDED, ...stored });
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`)
      .join('; ');
    throw new UsageError(
      'RESUME_FAILED',
      `--resume ${where}: run.json's config does not match this version of atmanrl (${issues}). Resume it with the version that wrote it, or start a new run.`,
    );
  }
  const base = parsed.data;
  const next: RunConfig = { ...base };
  const changes: ResumeRecord['changes'] = {};
  const refused: string[] = [];
  for (const key of [...explicit].sort()) {
    if (NOT_COMPARED.has(key) || !(key in base)) continue;
    const from = (base as Record<string, unknown>)[key];
    const to = (given as Record<string, unknown>)[key];
    if (key === 'queue') {
      // run.json holds the URL without its password: compare (and record) the redacted form.
      next.queue = given.queue;
      const shown = given.queue === null ? null : redactQueueUrl(given.queue);
      if (shown !== from) changes[key] = { from, to: shown };
      continue;
    }
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    if ((RESUMABLE as readonly string[]).includes(key)) {
      (next as Record<string, unknown>)[key] = to;
      changes[key] = { from, to };
    } else {
      refused.push(
        `--${toFlag(key)} (run has ${JSON.stringify(from)}, given ${JSON.stringify(to)})`,
      );
    }
  }
  if (refused.length > 0) {
    throw new UsageError(
      'RESUME_CONFLICT',
      `--resume ${where}: ${refused.join(', ')} cannot change on resume: it would alter the run's trajectory (or it has no meaning for a resumed run). On resume only ${RESUMABLE.map((k) => `--${toFlag(k)}`).join(', ')} may change. Drop the option, or start a new run with it.`,
    );
  }
  if (!explicit.has('queue') && next.queue !== null && isRedactedQueueUrl(next.queue)) {
    throw new UsageError(
      'RESUME_FAILED',
      `--resume ${where}: the run used --queue ${next.queue}, which run.json keeps without its password. Give --queue with the password again (e.g. --queue redis://:secret@host:6379), or --queue null to run the jobs on this machine's worker threads.`,
      { flag: '--queue' },
    );
  }
  next.resume = given.resume;
  return { config: next, changes };
}

/**
 * `--max-steps` of a resumed run may not be below the step it resumes from: the run already
 * trained those steps, and run.json would record `maxSteps` below its `step`. Equal is allowed
 * (the run is marked finished without training). Throws `RESUME_CONFLICT` saying what to give.
 */
export function checkMaxStepsOnResume(
  maxSteps: number,
  step: number,
  where: string,
  checkpointPath = `checkpoints/step-${step}`,
): void {
  if (maxSteps >= step) return;
  throw new UsageError(
    'RESUME_CONFLICT',
    `--resume ${where}: --max-steps ${maxSteps} is below step ${step}, which the run has already trained (its checkpoint ${checkpointPath}). Give --max-steps ${step} or more (${step} marks the run finished without training), or resume from an earlier checkpoint with --resume <run>/checkpoints/step-N (N ≤ ${maxSteps}).`,
  );
}

/** `--resume` target: a run folder, or one of its `checkpoints/step-N` folders. */
function resumeTarget(path: string): { runDir: string; checkpoint: string | null } {
  const abs = resolve(path);
  const name = basename(abs);
  if (
    /^step-\d+$/.test(name) &&
    basename(dirname(abs)) === 'checkpoints' &&
    existsSync(join(dirname(dirname(abs)), 'run.json'))
  ) {
    return { runDir: dirname(dirname(abs)), checkpoint: `checkpoints/${name}` };
  }
  return { runDir: path, checkpoint: null };
}

/**
 * Opens a run for `--resume`: takes its writer lock (a second writer fails, naming the holder),
 * removes leftover temp files, resolves the configuration by the resume policy, reads and checks
 * the checkpoint, and records the resume (changes and history) in run.json. On any error the
 * lock is released and run.json is unchanged.
 */
export async function openResume(
  given: RunConfig,
  explicit: ReadonlySet<string>,
  command: string,
): Promise<OpenedResume> {
  const where = given.resume ?? '';
  const target = resumeTarget(where);
  let run: RunWriter;
  try {
    run = RunWriter.open(target.runDir, { command });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(
      code === 'LOCKED' ? 'RUN_LOCKED' : 'RESUME_FAILED',
      `--resume ${where}: ${(e as Error).message}`,
    );
  }
  try {
    const { config, changes } = resumedConfig(run.info.config, given, explicit, where);
    const only =
      target.checkpoint === null
        ? undefined
        : {
            step: Number(target.checkpoint.slice('checkpoints/step-'.length)),
            path: target.checkpoint,
          };
    const checkpoint = await readLatestCheckpoint(run, only);
    checkMaxStepsOnResume(config.maxSteps, checkpoint.state.step, where, only?.path);
    if (only !== undefined && run.latestCheckpoint()?.path !== only.path) {
      // An explicit older checkpoint becomes latest: later saves may then replace newer folders.
      run.commitCheckpoint(only.step);
    }
    const history = Array.isArray(run.info['resumes']) ? (run.info['resumes'] as unknown[]) : [];
    const record: ResumeRecord = {
      at: new Date().toISOString(),
      fromStep: checkpoint.state.step,
      checkpoint: only?.path ?? `checkpoints/step-${checkpoint.state.step}`,
      changes,
      machine: thisMachine(),
    };
    run.update({
      config: configForRunJson(config),
      resumes: [...history, record],
    });
    const notes = run.removedTempFiles.map(
      (f) => `removed ${f} (a temp file left by an interrupted write)`,
    );
    return { run, config, checkpoint, changes, notes };
  } catch (e) {
    run.close();
    throw e;
  }
}
