// The largest tensor one buffer binding of the active backend can hold: webgpu's device limits
// (`maxStorageBufferBindingSize`, `maxBufferSize`), no limit elsewhere, and an override for tests.
// Leaves out per-kernel limits (workgroup counts): those are the kernels' business.
import * as tf from '@tensorflow/tfjs-core';
import { ModelError } from './errors.js';

/** Environment variable that overrides {@link deviceBindingLimitBytes} (a byte count). */
export const MAX_BINDING_BYTES_ENV = 'ATMANRL_MAX_BINDING_BYTES';

function readEnv(key: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env?.[key];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Bytes one tensor may occupy on the active backend: on webgpu the smaller of the device's
 * `maxStorageBufferBindingSize` and `maxBufferSize` (a kernel binds each input whole), on every
 * other backend `Infinity`. `ATMANRL_MAX_BINDING_BYTES` (Node) overrides it on any backend, so the
 * split path can be exercised on cpu or wasm. Models split their vocabulary matrices by this
 * number at creation ({@link VocabMatrix}).
 * @throws ModelError `BAD_ARGUMENT` when the environment variable is not a positive integer
 */
export function deviceBindingLimitBytes(): number {
  const env = readEnv(MAX_BINDING_BYTES_ENV);
  if (env !== undefined) {
    const n = Number(env);
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new ModelError(
        'BAD_ARGUMENT',
        `${MAX_BINDING_BYTES_ENV}=${env} is not a positive integer byte count; unset it or give e.g. 134217728`,
      );
    }
    return n;
  }
  if (tf.getBackend() !== 'webgpu') return Number.POSITIVE_INFINITY;
  const limits = (tf.backend() as { device?: { limits?: Record<string, number> } }).device?.limits;
  const binding = limits?.['maxStorageBufferBindingSize'] ?? Number.POSITIVE_INFINITY;
  const buffer = limits?.['maxBufferSize'] ?? Number.POSITIVE_INFINITY;
  return Math.min(binding, buffer);
}

/** Checks an explicit `maxBindingBytes` option, or reads the active backend's limit. */
export function resolveBindingLimit(maxBindingBytes: number | undefined, where: string): number {
  if (maxBindingBytes === undefined) return deviceBindingLimitBytes();
  if (!(maxBindingBytes >= 1)) {
    throw new ModelError(
      'BAD_ARGUMENT',
      `${where}: maxBindingBytes is ${maxBindingBytes}; expected a positive byte count (or Infinity for no split)`,
    );
  }
  return maxBindingBytes;
}
