// initBackend: explicit choices, the ATMANRL_BACKEND override, errors, logging, and the wasm
// UnsortedSegmentSum kernel (gradient of gather) against cpu.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { unsortedSegmentSumValues } from '../_internal/wasm-kernels.js';
import { AttentionMaskError } from '../errors.js';
import type { Logger } from '../logger.js';
import { initBackend } from './backend.js';
import { probeWebgpu } from './webgpu.js';

function collect(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}

describe('initBackend', () => {
  const saved = process.env['ATMANRL_BACKEND'];
  afterEach(() => {
    if (saved === undefined) delete process.env['ATMANRL_BACKEND'];
    else process.env['ATMANRL_BACKEND'] = saved;
  });

  it('sets up cpu and wasm on request, idempotently, and logs the choice', async () => {
    delete process.env['ATMANRL_BACKEND'];
    const log = collect();
    const wasm = await initBackend({ prefer: 'wasm', logger: log });
    expect(wasm.name).toBe('wasm');
    expect(wasm.detail).toMatch(/^wasm \((simd|no simd), /);
    expect(tf.getBackend()).toBe('wasm');
    expect(log.lines).toEqual([`info tfjs backend: ${wasm.detail}`]);
    expect(await initBackend({ prefer: 'wasm' })).toEqual(wasm);
    const cpu = await initBackend({ prefer: 'cpu' });
    expect(cpu).toEqual({ name: 'cpu', detail: 'cpu (pure JavaScript)' });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('lets ATMANRL_BACKEND override prefer', async () => {
    process.env['ATMANRL_BACKEND'] = 'cpu';
    expect((await initBackend({ prefer: 'wasm' })).name).toBe('cpu');
    process.env['ATMANRL_BACKEND'] = 'wasm';
    expect((await initBackend({ prefer: 'cpu' })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown name with UNKNOWN_BACKEND', async () => {
    process.env['ATMANRL_BACKEND'] = 'tpu';
    await expect(initBackend()).rejects.toMatchObject({
      code: 'UNKNOWN_BACKEND',
      message: "ATMANRL_BACKEND is 'tpu', expected one of tensorflow, webgpu, wasm, cpu",
    });
  });

  it('fails loudly (no fallback) when tensorflow is requested but not loadable', async () => {
    process.env['ATMANRL_BACKEND'] = 'tensorflow';
    const before = tf.getBackend();
    try {
      const info = await initBackend();
      // Only reachable where tfjs-node(-gpu) with its native addon is installed.
      expect(info.name).toBe('tensorflow');
    } catch (error) {
      expect(error).toBeInstanceOf(AttentionMaskError);
      expect((error as AttentionMaskError).code).toBe('BACKEND_UNAVAILABLE');
      expect((error as Error).message).toContain('@tensorflow/tfjs-node');
      expect(tf.getBackend()).toBe(before);
    }
  });

  it('picks a working backend automatically (tensorflow > hardware webgpu > wasm > cpu)', async () => {
    delete process.env['ATMANRL_BACKEND'];
    const log = collect();
    const info = await initBackend({ logger: log });
    const probe = await probeWebgpu();
    const hardware = probe.available && !probe.adapter.software;
    expect(hardware ? ['tensorflow', 'webgpu'] : ['tensorflow', 'wasm']).toContain(info.name);
    if (probe.available && probe.adapter.software) {
      expect(log.lines).toContainEqual(
        expect.stringMatching(/^info backend webgpu unavailable: only a software adapter/),
      );
    }
    expect(tf.getBackend()).toBe(info.name);
    if (info.name === 'wasm')
      expect(log.lines[0]).toMatch(/^info backend tensorflow unavailable: /);
    expect(log.lines.at(-1)).toBe(`info tfjs backend: ${info.detail}`);
  });
});

describe('wasm UnsortedSegmentSum (gradient of gather)', () => {
  it('sums rows by segment and drops out-of-range ids', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8]; // [4,2]
    expect([...unsortedSegmentSumValues(x, [2, 0, 2, 5], 3, false)]).toEqual([3, 4, 0, 0, 6, 8]);
  });

  it('gives the same embedding gradient on wasm as on cpu', async () => {
    const grad = async (backend: 'cpu' | 'wasm') => {
      await initBackend({ prefer: backend });
      const table = tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      const ids = tf.tensor1d([2, 0, 2, 1, 2], 'int32');
      const w = tf.tensor2d([
        [1, 0],
        [0, 1],
        [2, 3],
        [1, 1],
        [-1, 4],
      ]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), w)))(table);
      const values = await g.array();
      tf.dispose([table, ids, w, g]);
      return values;
    };
    const want = [
      [0, 1],
      [1, 1],
      [2, 7],
    ];
    expect(await grad('cpu')).toEqual(want);
    expect(await grad('wasm')).toEqual(want);
  });
});

describe('wasm Slice replacement', () => {
  it('gives the same contiguous and strided slices as cpu', async () => {
    const run = async (backend: 'cpu' | 'wasm') => {
      await initBackend({ prefer: backend });
      const x = tf.range(0, 4 * 3 * 5, 1, 'float32').reshape([4, 3, 5]);
      const parts = [
        tf.slice(x, [2, 0, 0], [1, 3, 5]), // contiguous (fast path)
        tf.slice(x, [1, 0, 0], [3, -1, -1]), // contiguous, -1 sizes
        tf.slice(x, [0, 1, 2], [4, 2, 3]), // strided (original kernel)
        tf.slice(tf.cast(x, 'int32'), [3, 2, 0], [1, 1, 5]),
      ];
      const values = await Promise.all(parts.map((p) => p.array()));
      tf.dispose([x, ...parts]);
      return values;
    };
    const want = await run('cpu');
    expect(await run('wasm')).toEqual(want);
    expect(tf.getKernel('Slice', 'wasm')).toBeDefined();
  });
});
