// A one-layer Llama with hand-set weights whose answer is, by construction, a copy of the one
// "value" token (ids 10-19) in the sequence. Vocabulary as in copy-task.ts.
// The delimiter's query scores value keys at `valueScore`, the delimiter's own key at 0 and every
// other key (fillers, markers, pad) at `ignoredScore` (effectively never attended). The attended
// value vector writes the value's id direction into the residual and the head reads it back, so
// p(gold) grows with the attention weight on the value key and nothing else matters.
// RoPE is made inert on the one used dimension (pair 7/15 with rope_theta 1e12).
import { createRandomModel, type LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';

const D = 32;
const HD = 16;
const V = 24;
const BALLAST = 10; // extra norm on the delimiter so the final RMSNorm barely depends on p

export function handCopyModel(
  options: { valueScore?: number; ignoredScore?: number; headScale?: number } = {},
): LlamaModel {
  const valueScore = options.valueScore ?? 4;
  const ignoredScore = options.ignoredScore ?? -20;
  const headScale = options.headScale ?? 16;
  const model = createRandomModel(
    {
      vocab_size: V,
      hidden_size: D,
      intermediate_size: 8,
      num_hidden_layers: 1,
      num_attention_heads: 1,
      num_key_value_heads: 1,
      head_dim: HD,
      rope_theta: 1e12,
      tie_word_embeddings: false,
      pad_token_id: 23,
    },
    0,
  );
  const embed = new Float32Array(D * V); // [D,V]
  for (let t = 0; t < V; t++) embed[t * V + t] = 1;
  embed[26 * V + 20] = BALLAST;
  const rms = (t: number) => Math.sqrt((1 + (t === 20 ? BALLAST ** 2 : 0)) / D);
  const q = new Float32Array(D * HD);
  q[20 * HD + 7] = rms(20); // delimiter row: q7 = 1 after the input RMSNorm
  const k = new Float32Array(D * HD);
  for (let t = 0; t < V; t++) {
    const score = t >= 10 && t <= 19 ? valueScore : t === 20 ? 0 : ignoredScore;
    k[t * HD + 7] = Math.sqrt(HD) * score * rms(t); // q·k/sqrt(hd) = score
  }
  const v = new Float32Array(D * HD);
  for (let t = 10; t <= 19; t++) v[t * HD + (t - 10)] = rms(t); // value vector e_{t-10}
  const o = new Float32Array(HD * D);
  for (let i = 0; i < 10; i++) o[i * D + 10 + i] = 1; // back to the id direction of token 10+i
  const head = new Float32Array(D * V);
  for (let u = 10; u <= 19; u++) head[u * V + u] = headScale;
  const w = model.weights;
  const layer = w.layers[0]!;
  tf.tidy(() => {
    w.embed.assign(tf.tensor2d(embed, [D, V]));
    layer.q.assign(tf.tensor2d(q, [D, HD]));
    layer.k.assign(tf.tensor2d(k, [D, HD]));
    layer.v.assign(tf.tensor2d(v, [D, HD]));
    layer.o.assign(tf.tensor2d(o, [HD, D]));
    for (const m of [layer.gate, layer.up, layer.down]) m.assign(tf.zerosLike(m));
    w.lmHead!.assign(tf.tensor2d(head, [D, V]));
  });
  return model;
}
