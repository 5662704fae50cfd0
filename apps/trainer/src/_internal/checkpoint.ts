// Checkpoints for exact resume: the policy in the Hugging Face layout, optimizer.safetensors
// (AdamW moments, F32), trainer_state.json (step, RNG state, data cursor), then the pointer
// checkpoints/latest.json written last (through @atmanrl/runs). Every file is written into a
// staged temp folder, fsynced, and the folder renamed into place before the pointer moves, so a
// crash or power loss mid-save leaves the previous checkpoint as `latest`, intact.
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DataCursor } from '@atmanrl/datasets';
import {
  type LlamaModel,
  type RngState,
  SafetensorsCheckpoint,
  SafetensorsFile,
  saveModel,
  writeSafetensors,
} from '@atmanrl/model/node';
import { fsyncDir, type RunWriter, writeJsonAtomic } from '@atmanrl/runs/node';
import { UsageError } from '../errors.js';

/** `trainer_state.json`: everything besides weights and optimizer moments needed to resume. */
export interface TrainerState {
  version: 1;
  /** Optimisation steps completed. */
  step: number;
  rng: RngState;
  cursor: DataCursor;
}

/** Test hook: called with the staged folder once it is filled, before it is committed. */
export type BeforeCommitHook = (stagedDir: string) => void | Promise<void>;

/**
 * Saves a complete checkpoint of `step` (staged, fsynced, renamed) and commits the pointer. When
 * a write fails (a full disk, a read-only folder), the partial staged folder is removed at once
 * (it would keep the disk full until the run is reopened), the run is marked `failed` naming the
 * cause (possible now that the space is free), and the error is rethrown; the previous checkpoint
 * stays `latest`. A crash (the process dies) leaves the staged folder for the next open to remove.
 */
export async function saveCheckpoint(
  run: RunWriter,
  model: LlamaModel,
  optimizerState: Record<string, Float32Array> | null,
  state: TrainerState,
  options: { beforeCommit?: BeforeCommitHook } = {},
): Promise<string> {
  const staged = run.stageCheckpoint(state.step);
  try {
    await saveModel(model, staged);
    if (optimizerState !== null) {
      await writeSafetensors(
        join(staged, 'optimizer.safetensors'),
        Object.entries(optimizerState).map(([name, data]) => ({
          name,
          dtype: 'F32' as const,
          shape: [data.length],
          data,
        })),
      );
    }
    writeJsonAtomic(join(staged, 'trainer_state.json'), state);
    await options.beforeCommit?.(staged);
    const pointer = run.commitCheckpoint(state.step, staged);
    return join(run.dir, pointer.path);
  } catch (e) {
    discardFailedCheckpoint(run, staged, state.step, e);
    throw e;
  }
}

/** After a failed save: remove the staged folder, then mark the run failed (best effort). */
function discardFailedCheckpoint(run: RunWriter, staged: string, step: number, e: unknown): void {
  let removed = false;
  try {
    rmSync(staged, { recursive: true, force: true });
    fsyncDir(dirname(staged));
    removed = true;
  } catch {
    // the next open of the run removes it
  }
  const latest = (() => {
    try {
      return run.latestCheckpoint()?.path ?? null;
    } catch {
      return null;
    }
  })();
  try {
    if (run.info.status === 'running') {
      run.setStatus(
        'failed',
        `the checkpoint of step ${step} could not be written: ${(e as Error).message}${removed ? '; its partial folder was removed' : ''}. ${latest === null ? 'No earlier checkpoint exists.' : `The last checkpoint is ${latest}; resume from it once the cause is fixed.`}`,
      );
    }
  } catch {
    // e.g. the disk is still full: the caller reports the original error
  }
}

/**
 * `--save-total-limit`: deletes all but the newest `keep` committed checkpoints, counted by step
 * up to the latest one, which is never deleted (folders of steps after `latest`, left by a resume
 * from an older checkpoint, are neither counted nor deleted: the run replaces them as it goes).
 * Each folder is first renamed to a `.step-N.old.tmp-*` name (one atomic rename, after the new
 * checkpoint and its pointer are durable), then removed, then `checkpoints/` is fsynced; a crash
 * in between leaves a temp folder that the next open of the run removes. Returns the deleted
 * checkpoint paths (relative to the run).
 */
export function pruneCheckpoints(run: RunWriter, keep: number): string[] {
  const latest = run.latestCheckpoint();
  if (latest === null || !(keep >= 1)) return [];
  const older = run.listCheckpoints().filter((c) => c.step < latest.step); // newest first
  const doomed = older.slice(Math.max(0, keep - 1));
  const root = join(run.dir, 'checkpoints');
  for (const c of doomed) {
    const temp = join(root, `.step-${c.step}.old.tmp-${process.pid}-prune`);
    rmSync(temp, { recursive: true, force: true });
    renameSync(join(run.dir, c.path), temp);
    rmSync(temp, { recursive: true, force: true });
  }
  if (doomed.length > 0) fsyncDir(root);
  return doomed.map((c) => c.path);
}

/** A checkpoint read back for resuming. */
export interface LoadedCheckpoint {
  dir: string;
  state: TrainerState;
  optimizerState: Record<string, Float32Array> | null;
}

/** Parses and checks `trainer_state.json`; throws a message naming the file. */
function readState(dir: string): TrainerState {
  const statePath = join(dir, 'trainer_state.json');
  if (!existsSync(statePath)) throw new Error(`${statePath} is missing`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (e) {
    throw new Error(`${statePath} is not valid JSON (${(e as Error).message})`);
  }
  const s = value as Partial<TrainerState> | null;
  if (
    s === null ||
    typeof s !== 'object' ||
    !Number.isInteger(s.step) ||
    (s.step ?? -1) < 0 ||
    s.rng === undefined ||
    s.cursor === undefined
  ) {
    throw new Error(`${statePath} is not a trainer state (needs integer step, rng and cursor)`);
  }
  return s as TrainerState;
}

/**
 * Checks that a checkpoint folder is complete without loading weights: trainer_state.json parses,
 * and every safetensors header (model, shards, optimizer) is valid and matches its file's size.
 * Returns what is wrong, or null when it is intact.
 */
export async function checkpointProblem(dir: string): Promise<string | null> {
  try {
    readState(dir);
    if (!existsSync(join(dir, 'config.json'))) return `${join(dir, 'config.json')} is missing`;
    const model = await SafetensorsCheckpoint.open(dir);
    await model.close();
    const opt = join(dir, 'optimizer.safetensors');
    if (existsSync(opt)) await (await SafetensorsFile.open(opt)).close();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The newest intact checkpoint of the run older than `before`, or null. */
export async function previousIntactCheckpoint(
  run: RunWriter,
  before: number,
): Promise<{ step: number; path: string } | null> {
  for (const c of run.listCheckpoints()) {
    if (c.step >= before) continue;
    if ((await checkpointProblem(join(run.dir, c.path))) === null) return c;
  }
  return null;
}

/**
 * Reads a checkpoint for `--resume`: the latest committed one, or `only` (a folder the user named).
 * A damaged checkpoint (torn or missing file, trainer_state that is not JSON or disagrees with
 * the pointer) is a `RESUME_FAILED` user error that names the previous intact checkpoint and how
 * to resume from it.
 */
export async function readLatestCheckpoint(
  run: RunWriter,
  only?: { step: number; path: string },
): Promise<LoadedCheckpoint> {
  let pointer: { step: number; path: string } | null;
  try {
    pointer = only ?? run.latestCheckpoint();
  } catch (e) {
    throw new UsageError('RESUME_FAILED', `--resume ${run.dir}: ${(e as Error).message}`);
  }
  if (pointer === null) {
    // latest.json gone (deleted, or the run crashed before its first commit): a step folder that
    // is complete still resumes exactly when named.
    const newest = await previousIntactCheckpoint(run, Number.POSITIVE_INFINITY);
    throw new UsageError(
      'RESUME_FAILED',
      newest === null
        ? `--resume ${run.dir}: the run has no committed checkpoint (checkpoints/latest.json is missing and no intact checkpoints/step-N folder exists), so there is nothing to resume from. Start a new run instead.`
        : `--resume ${run.dir}: checkpoints/latest.json is missing, but the newest intact checkpoint is ${newest.path} (step ${newest.step}): resume from it with --resume ${join(run.dir, newest.path)} (it continues exactly; that makes it the latest again).`,
    );
  }
  const dir = join(run.dir, pointer.path);
  let problem = await checkpointProblem(dir);
  let state: TrainerState | null = null;
  if (problem === null) {
    state = readState(dir);
    if (state.step !== pointer.step) {
      problem = `trainer_state.json says step ${state.step}, but ${only ? 'the folder' : 'latest.json'} says step ${pointer.step}`;
    }
  }
  if (problem !== null || state === null) {
    const prev = await previousIntactCheckpoint(run, pointer.step);
    throw new UsageError(
      'RESUME_FAILED',
      `--resume ${run.dir}: the checkpoint ${pointer.path} is damaged: ${problem}. ${
        prev === null
          ? 'No earlier intact checkpoint exists; start a new run.'
          : `The previous intact checkpoint is ${prev.path} (step ${prev.step}); resume from it with --resume ${join(run.dir, prev.path)} (steps after ${prev.step} are discarded).`
      }`,
    );
  }
  let optimizerState: Record<string, Float32Array> | null = null;
  const optPath = join(dir, 'optimizer.safetensors');
  if (existsSync(optPath)) {
    const file = await SafetensorsFile.open(optPath);
    try {
      optimizerState = {};
      for (const name of file.names)
        optimizerState[name] = new Float32Array((await file.read(name)).data as ArrayLike<number>);
    } finally {
      await file.close();
    }
  }
  return { dir, state, optimizerState };
}
