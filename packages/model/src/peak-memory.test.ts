// measurePeakMemory (issue 21) against hand-computed allocations: a transient inside tf.tidy
// counts, the returned tensor stays in endBytes, measurements nest, and the engine's counter is a
// plain field again afterwards (also after a throw); on cpu and wasm.
import { initBackend } from '@atmanrl/attention-mask/node';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { setUpBackend } from '../test/helpers.js';
import { measurePeakMemory } from './peak-memory.js';

afterAll(() => setUpBackend());

const counter = () =>
  Object.getOwnPropertyDescriptor((tf.engine() as unknown as { state: object }).state, 'numBytes');

/** a [1000] (4,000 B); b = a·a and c = b + a inside a tidy (4,000 B each): peak 12,000 B. */
async function phase(): Promise<tf.Tensor> {
  const a = tf.zeros([1000]);
  await new Promise((r) => setTimeout(r, 1)); // an await inside the phase
  const c = tf.tidy(() => tf.add(tf.mul(a, a), a)); // b freed when the tidy ends
  a.dispose();
  return c;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`measurePeakMemory (${backend})`, () => {
    it('reports the hand-computed peak and end of a phase', async () => {
      await initBackend({ prefer: backend });
      const m = await measurePeakMemory(phase);
      expect(m.peakBytes - m.startBytes).toBe(12_000);
      expect(m.endBytes - m.startBytes).toBe(4_000); // c, returned
      expect(m.result.shape).toEqual([1000]);
      expect(m.peakBytesInGPU).toBeUndefined();
      m.result.dispose();
      expect(counter()).toMatchObject({ writable: true });
      expect(typeof counter()!.value).toBe('number');
    });

    it('nests: the outer phase sees the inner peak plus what it holds', async () => {
      await initBackend({ prefer: backend });
      const outer = await measurePeakMemory(async () => {
        const held = tf.zeros([500]); // 2,000 B across the inner phase
        const inner = await measurePeakMemory(phase);
        held.dispose();
        inner.result.dispose();
        return inner;
      });
      expect(outer.result.peakBytes - outer.result.startBytes).toBe(12_000);
      expect(outer.peakBytes - outer.startBytes).toBe(14_000);
      expect(outer.endBytes).toBe(outer.startBytes);
    });

    it('passes a throw through and restores the counter', async () => {
      await initBackend({ prefer: backend });
      await expect(
        measurePeakMemory(() => {
          throw new Error('phase failed');
        }),
      ).rejects.toThrow('phase failed');
      expect(counter()).toMatchObject({ writable: true });
      const t = tf.zeros([10]);
      expect(tf.memory().numBytes).toBeGreaterThanOrEqual(40);
      t.dispose();
    });
  });
}
