// Counts the compute dispatches (programs run) the webgpu backend records while a piece of work
// runs: the backend's `recordAndSubmit` is wrapped on the live backend instance for the duration
// of the call and restored afterwards. Leaves out GPU timing (see tfjs' `tf.profile`/`tf.time`).
import * as tf from '@tensorflow/tfjs-core';
import { AttentionMaskError } from '../errors.js';

/** Dispatches recorded by {@link countWebgpuDispatches}. */
export interface DispatchCount<T> {
  /** What `fn` returned (awaited). */
  value: T;
  /** Compute dispatches recorded while `fn` ran (one per program run; empty outputs record none). */
  dispatches: number;
  /** Dispatches per program name (the program's class, or the first part of its shader key). */
  byProgram: Record<string, number>;
}

interface ProgramLike {
  shaderKey?: string;
  constructor: { name: string };
}
interface RecordingBackend {
  recordAndSubmit: (program: ProgramLike, ...rest: unknown[]) => unknown;
}

/** A readable program name: the class name, or the shader key's prefix for plain objects. */
export function programName(program: ProgramLike): string {
  const cls = program.constructor.name;
  if (cls !== '' && cls !== 'Object') return cls;
  return (program.shaderKey ?? 'unknown').split('_')[0] ?? 'unknown';
}

let active = false;

/**
 * Runs `fn` on the current webgpu backend and counts the compute dispatches it records (every
 * kernel launch, including those inside gradients and optimizer updates). Work that `fn` starts
 * but does not await is not counted. Not reentrant.
 *
 * @param fn the work (may be async; awaited before counting stops)
 * @returns the value, the dispatch count and the count per program
 * @throws AttentionMaskError `BACKEND_UNAVAILABLE` when the current backend is not webgpu,
 *   `INVALID_ARGUMENT` when called while another count is running
 */
export async function countWebgpuDispatches<T>(
  fn: () => T | Promise<T>,
): Promise<DispatchCount<T>> {
  if (tf.getBackend() !== 'webgpu') {
    throw new AttentionMaskError(
      'BACKEND_UNAVAILABLE',
      `countWebgpuDispatches needs the webgpu backend, the current one is ${tf.getBackend()}; ` +
        "call initBackend({ prefer: 'webgpu' }) first",
    );
  }
  if (active) {
    throw new AttentionMaskError(
      'INVALID_ARGUMENT',
      'countWebgpuDispatches is already counting; nest no counts (count the outer work once)',
    );
  }
  const backend = tf.backend() as unknown as RecordingBackend;
  if (typeof backend.recordAndSubmit !== 'function') {
    throw new AttentionMaskError(
      'BACKEND_UNAVAILABLE',
      'countWebgpuDispatches: this webgpu backend has no recordAndSubmit (expected ' +
        '@tensorflow/tfjs-backend-webgpu 4.22); pin that version',
    );
  }
  const byProgram: Record<string, number> = {};
  let dispatches = 0;
  const hadOwn = Object.hasOwn(backend, 'recordAndSubmit');
  const original = backend.recordAndSubmit;
  backend.recordAndSubmit = function (this: unknown, program: ProgramLike, ...rest: unknown[]) {
    dispatches++;
    const name = programName(program);
    byProgram[name] = (byProgram[name] ?? 0) + 1;
    return original.call(this, program, ...rest);
  };
  active = true;
  try {
    const value = await fn();
    return { value, dispatches, byProgram };
  } finally {
    active = false;
    if (hadOwn) backend.recordAndSubmit = original;
    else delete (backend as Partial<RecordingBackend>).recordAndSubmit;
  }
}
