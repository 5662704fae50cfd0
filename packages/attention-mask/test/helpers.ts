// Test helpers: seeded random arrays, tensors from nested arrays, comparisons.

import { webgpuSuiteGate } from '@atmanrl/tooling/webgpu-suite';
import * as tf from '@tensorflow/tfjs-core';
import { probeWebgpu } from '../src/node/webgpu.js';

/** mulberry32 seeded uniform [0,1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Nested array of shape `shape` with standard-normal-ish values (Box-Muller), seeded. */
export function randn<T = number[][][][]>(shape: number[], seed: number, scale = 1): T {
  const r = rng(seed);
  const gen = (dims: number[]): unknown =>
    dims.length === 0
      ? scale * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r())
      : Array.from({ length: dims[0]! }, () => gen(dims.slice(1)));
  return gen(shape) as T;
}

/** Flattens a nested number array. */
export function flat(x: unknown): number[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x as number];
}

/** Max |a-b| over two flat arrays of equal length (throws on length mismatch). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    m = Math.max(m, d);
  }
  return m;
}

export function t4(x: number[][][][]): tf.Tensor4D {
  return tf.tensor4d(x);
}
export function t2(x: number[][]): tf.Tensor2D {
  return tf.tensor2d(x);
}

/** Rebuilds a nested [a,b,c,d] array from flat values. */
export function nest4(shape: readonly number[], values: readonly number[]): number[][][][] {
  const [A, B, C, D] = shape as [number, number, number, number];
  let i = 0;
  return Array.from({ length: A }, () =>
    Array.from({ length: B }, () =>
      Array.from({ length: C }, () => Array.from({ length: D }, () => values[i++]!)),
    ),
  );
}

/**
 * Whether the webgpu suites run here: yes when Dawn offers an adapter (software ones included);
 * otherwise they are skipped with the reason, except on CI with `ATMANRL_REQUIRE_WEBGPU=1`, where
 * they run anyway and fail on the missing adapter (never a silent skip there).
 */
export async function webgpuGate(): Promise<{ run: boolean; label: string }> {
  return webgpuSuiteGate(await probeWebgpu());
}
