// attention forward and forward+backward at B=8, H=8, Hkv=2, d=64 on wasm and cpu (cpu: T=64 only).
// Run: pnpm --filter @atmanrl/attention-mask bench   (compare with bench/attention_torch.py)
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { attention } from '../src/attention.js';
import { initBackend } from '../src/node/backend.js';

const [B, H, Hkv, d] = [8, 8, 2, 64];
const plan: { backend: 'wasm' | 'cpu'; T: number }[] = [
  { backend: 'wasm', T: 64 },
  { backend: 'wasm', T: 256 },
  { backend: 'wasm', T: 512 },
  { backend: 'cpu', T: 64 },
];
const options = { time: 0, iterations: 3, warmupIterations: 1, warmupTime: 0 };

for (const { backend, T } of plan) {
  describe(`${backend} T=${T}`, () => {
    let q: tf.Tensor4D;
    let k: tf.Tensor4D;
    let v: tf.Tensor4D;
    let bias: tf.Tensor2D;
    const setup = async () => {
      await initBackend({ prefer: backend });
      q = tf.randomNormal([B, H, T, d], 0, 1, 'float32', 1) as tf.Tensor4D;
      k = tf.randomNormal([B, Hkv, T, d], 0, 1, 'float32', 2) as tf.Tensor4D;
      v = tf.randomNormal([B, Hkv, T, d], 0, 1, 'float32', 3) as tf.Tensor4D;
      bias = tf.randomNormal([B, T], 0, 1, 'float32', 4) as tf.Tensor2D;
    };
    const teardown = () => {
      tf.dispose([q, k, v, bias]);
    };
    bench(
      'forward',
      async () => {
        const out = attention(q, k, v, { bias });
        await out.data();
        out.dispose();
      },
      { ...options, setup, teardown },
    );
    bench(
      'forward+backward',
      async () => {
        const grads = tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(
            attention(qq as tf.Tensor4D, kk as tf.Tensor4D, vv as tf.Tensor4D, {
              bias: bb as tf.Tensor2D,
            }),
          ),
        )([q, k, v, bias]);
        await Promise.all(grads.map((g) => g.data()));
        tf.dispose(grads);
      },
      { ...options, setup, teardown },
    );
  });
}
