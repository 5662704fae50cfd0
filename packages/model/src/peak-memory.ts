// Peak tensor memory while an async function runs: the tfjs engine's byte count (every live
// tensor on any backend) and, on webgpu, the backend's GPU buffer counters, observed at every
// change rather than sampled. Leaves out host memory outside tensors (see process.memoryUsage).
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from './errors.js';

/** Result of {@link measurePeakMemory}. Byte counts are absolute (not relative to the start). */
export interface PeakMemory<T> {
  /** What the function returned. */
  result: T;
  /** tfjs engine bytes (`tf.memory().numBytes`) when it started. */
  startBytes: number;
  /** Highest engine bytes while it ran (≥ start and end). */
  peakBytes: number;
  /** Engine bytes when it returned (tensors it kept or returned included). */
  endBytes: number;
  /**
   * webgpu only: highest bytes in GPU buffers in use (`numBytesInGPU` of `tf.memory()`: tensors
   * on the GPU plus staging and uniform buffers); undefined elsewhere.
   */
  peakBytesInGPU?: number;
  /**
   * webgpu only: highest bytes of GPU buffers allocated (`numBytesAllocatedInGPU`: in use plus the
   * backend's pool of free buffers for reuse); undefined elsewhere.
   */
  peakBytesAllocatedInGPU?: number;
}

/** One running measurement: the highest value seen per counter. */
type Watcher = Map<string, number>;

/** Counters being watched: the object, its field, and the active watchers. */
interface Hook {
  target: Record<string, unknown>;
  field: string;
  key: string;
  value: number;
  watchers: Set<Watcher>;
}
const hooks: Hook[] = [];

/** Replaces `target[field]` by an accessor that raises every watcher's peak (once per counter). */
function watch(target: Record<string, unknown>, field: string, key: string, w: Watcher): void {
  let hook = hooks.find((h) => h.target === target && h.field === field);
  if (hook === undefined) {
    const desc = Object.getOwnPropertyDescriptor(target, field);
    if (desc === undefined || typeof desc.value !== 'number' || !desc.writable) {
      throw new ModelError(
        'BAD_ARGUMENT',
        `measurePeakMemory: this tfjs build keeps no numeric "${field}" counter to observe (needs @tensorflow/tfjs-core 4.x)`,
      );
    }
    const h: Hook = { target, field, key, value: desc.value, watchers: new Set() };
    Object.defineProperty(target, field, {
      configurable: true,
      enumerable: desc.enumerable ?? true,
      get: () => h.value,
      set: (v: number) => {
        h.value = v;
        for (const x of h.watchers) if (v > (x.get(h.key) ?? -1)) x.set(h.key, v);
      },
    });
    hooks.push(h);
    hook = h;
  }
  hook.watchers.add(w);
  w.set(key, hook.value);
}

/** Stops a watcher; restores a counter's plain field when no watcher is left. */
function unwatch(w: Watcher): void {
  for (let i = hooks.length - 1; i >= 0; i--) {
    const h = hooks[i]!;
    h.watchers.delete(w);
    if (h.watchers.size === 0) {
      Object.defineProperty(h.target, h.field, {
        configurable: true,
        enumerable: true,
        writable: true,
        value: h.value,
      });
      hooks.splice(i, 1);
    }
  }
}

/**
 * Runs `fn` and reports the peak tensor memory during it: the tfjs engine's bytes on every
 * backend and, on webgpu, the GPU buffer bytes in use and allocated (the backend's
 * `numBytesInGPU` / `numBytesAllocatedInGPU`). Every change of those counters is observed (not
 * sampled), so a transient inside one kernel call or `tf.tidy` counts. Measurements may nest and
 * overlap (each sees every allocation in the process while it runs). For phase reports: generation,
 * mask fit, policy update. Uses no `dataSync`.
 * @param fn the phase to measure (sync or async)
 * @throws ModelError `BAD_ARGUMENT` when this tfjs build exposes no byte counters; whatever `fn` throws
 */
export async function measurePeakMemory<T>(fn: () => T | Promise<T>): Promise<PeakMemory<T>> {
  const engine = tf.engine() as unknown as { state: Record<string, unknown> };
  const backend = tf.getBackend() === 'webgpu' ? tf.backend() : undefined;
  const buffers = (backend as { bufferManager?: Record<string, unknown> } | undefined)
    ?.bufferManager;
  const w: Watcher = new Map();
  const startBytes = tf.memory().numBytes;
  try {
    watch(engine.state, 'numBytes', 'engine', w);
    if (buffers !== undefined) {
      watch(buffers, 'numBytesUsed', 'used', w);
      watch(buffers, 'numBytesAllocated', 'allocated', w);
    }
    const result = await fn();
    const out: PeakMemory<T> = {
      result,
      startBytes,
      peakBytes: w.get('engine')!,
      endBytes: tf.memory().numBytes,
    };
    if (buffers !== undefined) {
      out.peakBytesInGPU = w.get('used')!;
      out.peakBytesAllocatedInGPU = w.get('allocated')!;
    }
    return out;
  } finally {
    unwatch(w);
  }
}
