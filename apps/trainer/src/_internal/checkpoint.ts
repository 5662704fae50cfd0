// Checkpoints for exact resume: the policy in the Hugging Face layout, optimizer.safetensors
// (AdamW moments, F32), trainer_state.json (step, RNG state, data cursor), then the pointer
// checkpoints/latest.json written last (through @atmanrl/runs), so a crash mid-save is harmless.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataCursor } from '@atmanrl/datasets';
import {
  type LlamaModel,
  type RngState,
  SafetensorsFile,
  saveModel,
  writeSafetensors,
} from '@atmanrl/model';
import { type RunWriter, writeJsonAtomic } from '@atmanrl/runs/node';
import { UsageError } from '../errors.js';

/** `trainer_state.json`: everything besides weights and optimizer moments needed to resume. */
export interface TrainerState {
  version: 1;
  /** Optimisation steps completed. */
  step: number;
  rng: RngState;
  cursor: DataCursor;
}

/** Saves a complete checkpoint of `step` and commits the pointer. */
export async function saveCheckpoint(
  run: RunWriter,
  model: LlamaModel,
  optimizerState: Record<string, Float32Array> | null,
  state: TrainerState,
): Promise<string> {
  const dir = run.checkpointDir(state.step);
  await saveModel(model, dir);
  if (optimizerState !== null) {
    await writeSafetensors(
      join(dir, 'optimizer.safetensors'),
      Object.entries(optimizerState).map(([name, data]) => ({
        name,
        dtype: 'F32' as const,
        shape: [data.length],
        data,
      })),
    );
  }
  writeJsonAtomic(join(dir, 'trainer_state.json'), state);
  run.commitCheckpoint(state.step);
  return dir;
}

/** A checkpoint read back for resuming. */
export interface LoadedCheckpoint {
  dir: string;
  state: TrainerState;
  optimizerState: Record<string, Float32Array> | null;
}

/** Reads the latest committed checkpoint of a run folder (for `--resume`). */
export async function readLatestCheckpoint(run: RunWriter): Promise<LoadedCheckpoint> {
  const pointer = run.latestCheckpoint();
  if (pointer === null) {
    throw new UsageError(
      'RESUME_FAILED',
      `--resume ${run.dir}: the run has no committed checkpoint (checkpoints/latest.json is missing), so there is nothing to resume from. Start a new run instead.`,
    );
  }
  const dir = join(run.dir, pointer.path);
  const statePath = join(dir, 'trainer_state.json');
  if (!existsSync(statePath)) {
    throw new UsageError(
      'RESUME_FAILED',
      `--resume: ${statePath} is missing; the checkpoint is incomplete.`,
    );
  }
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as TrainerState;
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
