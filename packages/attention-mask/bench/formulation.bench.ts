// matMul formulations per backend: 'explicit' (plain products + explicit transposes, per-batch 2-D
// split on wasm) vs 'flags' (one tf.matMul with transpose flags, tfjs' gradient), forward+backward
// of attention (B=1, H=8, Hkv=2, T=128, d=64, with a bias) and of a linear layer [256,512]x[512,512].
// Run: pnpm --filter @atmanrl/attention-mask exec vitest bench --run bench/formulation.bench.ts
// (webgpu needs a Dawn adapter; on lavapipe it is slow but the ratio is what this measures).
import * as tf from '@tensorflow/tfjs-core';
import { bench, describe } from 'vitest';
import { attention } from '../src/attention.js';
import { forceMatMulFormulation, type MatMulFormulation, matMul } from '../src/matmul.js';
import { initBackend } from '../src/node/backend.js';
import { probeWebgpu } from '../src/node/webgpu.js';

const [B, H, Hkv, T, d] = [1, 8, 2, 128, 64];
const backends = ['wasm', ...((await probeWebgpu()).available ? ['webgpu'] : [])] as const;
const options = { time: 0, iterations: 5, warmupIterations: 2, warmupTime: 0 };

for (const backend of backends) {
  for (const f of ['explicit', 'flags'] as MatMulFormulation[]) {
    describe(`${backend} ${f}`, () => {
      let q: tf.Tensor4D;
      let k: tf.Tensor4D;
      let v: tf.Tensor4D;
      let bias: tf.Tensor2D;
      let x: tf.Tensor2D;
      let w: tf.Tensor2D;
      const setup = async () => {
        await initBackend({ prefer: backend as 'wasm' | 'webgpu' });
        forceMatMulFormulation(f);
        q = tf.randomNormal([B, H, T, d], 0, 1, 'float32', 1) as tf.Tensor4D;
        k = tf.randomNormal([B, Hkv, T, d], 0, 1, 'float32', 2) as tf.Tensor4D;
        v = tf.randomNormal([B, Hkv, T, d], 0, 1, 'float32', 3) as tf.Tensor4D;
        bias = tf.randomNormal([B, T], 0, 1, 'float32', 4) as tf.Tensor2D;
        x = tf.randomNormal([256, 512], 0, 1, 'float32', 5) as tf.Tensor2D;
        w = tf.randomNormal([512, 512], 0, 1, 'float32', 6) as tf.Tensor2D;
      };
      const teardown = () => {
        forceMatMulFormulation(null);
        tf.dispose([q, k, v, bias, x, w]);
      };
      bench(
        'attention forward+backward',
        async () => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, e: tf.Tensor) =>
            tf.sum(
              attention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, {
                bias: e as tf.Tensor2D,
              }),
            ),
          )([q, k, v, bias]);
          await Promise.all(g.map((t) => t.data()));
          tf.dispose(g);
        },
        { ...options, setup, teardown },
      );
      bench(
        'linear forward+backward',
        async () => {
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(matMul(a, b)))([x, w]);
          await Promise.all(g.map((t) => t.data()));
          tf.dispose(g);
        },
        { ...options, setup, teardown },
      );
    });
  }
}
