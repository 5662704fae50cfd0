import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setUpBackend, TINY_CONFIG } from '../test/helpers.js';
import { createRandomModel } from './checkpoint.js';
import type { LlamaModel } from './llama-model.js';
import { createRng } from './rng.js';
import { createTinyTokenizer } from './tiny-tokenizer.js';

const tok = createTinyTokenizer();
let model: LlamaModel;
const prompts = [tok.encode('Q: 2+2='), tok.encode('Hello there, how are'), tok.encode('x')];

beforeAll(async () => {
  await setUpBackend();
  model = createRandomModel(TINY_CONFIG, 5, { tokenizer: tok });
});

describe('generate', () => {
  it('batched prompts of different lengths equal unbatched runs (greedy), with and without cache', async () => {
    const batched = await model.generate(prompts, { maxNewTokens: 8 });
    const uncached = await model.generate(prompts, { maxNewTokens: 8, useCache: false });
    for (let r = 0; r < prompts.length; r++) {
      const [single] = await model.generate([prompts[r]!], { maxNewTokens: 8 });
      expect(batched[r]!.tokenIds).toEqual(single!.tokenIds);
      expect(uncached[r]!.tokenIds).toEqual(single!.tokenIds);
      for (const [i, lp] of batched[r]!.logProbs.entries()) {
        expect(Math.abs(lp - single!.logProbs[i]!)).toBeLessThan(1e-4);
      }
      expect(batched[r]!.text).toBe(tok.decode(batched[r]!.tokenIds, { skipSpecialTokens: true }));
    }
  });

  it('log-probs equal sequenceLogProbs at the same temperature', async () => {
    const res = await model.generate(prompts.slice(0, 2), {
      maxNewTokens: 6,
      temperature: 0.7,
      seed: 3,
    });
    const { logProbs, mask } = model.sequenceLogProbs(
      prompts.slice(0, 2),
      res.map((r) => r.tokenIds),
      { temperature: 0.7 },
    );
    const lp = (await logProbs.array()) as number[][];
    tf.dispose([logProbs, mask]);
    for (const [i, r] of res.entries()) {
      for (const [j, x] of r.logProbs.entries())
        expect(Math.abs(x - lp[i]![j]!)).toBeLessThan(1e-4);
    }
  });

  it('same seed gives the same samples; another seed differs; an Rng continues its stream', async () => {
    const opts = { maxNewTokens: 10, temperature: 1.5, topK: 50, topP: 0.95 };
    const a = await model.generate(prompts, { ...opts, seed: 9 });
    const b = await model.generate(prompts, { ...opts, seed: 9 });
    const c = await model.generate(prompts, { ...opts, seed: 10 });
    expect(a.map((r) => r.tokenIds)).toEqual(b.map((r) => r.tokenIds));
    expect(a.map((r) => r.tokenIds)).not.toEqual(c.map((r) => r.tokenIds));
    const rng = createRng(9);
    const viaRng = await model.generate(prompts, { ...opts, rng });
    expect(viaRng.map((r) => r.tokenIds)).toEqual(a.map((r) => r.tokenIds));
    expect(rng.state()).not.toEqual(createRng(9).state());
  });

  it('stops on EOS (kept in tokenIds), on stop strings, and flags truncation', async () => {
    const [greedy] = await model.generate([prompts[0]!], { maxNewTokens: 6 });
    const first = greedy!.tokenIds[0]!;
    const [eos] = await model.generate([prompts[0]!], { maxNewTokens: 6, eosTokenIds: [first] });
    expect(eos!.tokenIds).toEqual([first]);
    expect(eos!.truncated).toBe(false);
    expect(greedy!.truncated).toBe(true);
    expect(greedy!.tokenIds).toHaveLength(6);
    // Greedy output of this seed starts with '2' (byte 50): stopping on '2' ends after one token.
    expect(greedy!.tokenIds[0]).toBe(50);
    const [stopped] = await model.generate([prompts[0]!], { maxNewTokens: 6, stopStrings: ['2'] });
    expect(stopped!.tokenIds).toEqual([50]);
    expect(stopped!.text).toBe('2');
    expect(stopped!.truncated).toBe(false);
    const [never] = await model.generate([prompts[0]!], { maxNewTokens: 4, stopStrings: ['zzz'] });
    expect(never!.tokenIds).toEqual(greedy!.tokenIds.slice(0, 4));
    expect(never!.truncated).toBe(true);
  });

  it('leaks no tensors and rejects bad arguments', async () => {
    const before = tf.memory().numTensors;
    await model.generate(prompts, { maxNewTokens: 4, temperature: 1, seed: 1 });
    await model.generate(prompts, { maxNewTokens: 3, useCache: false });
    expect(tf.memory().numTensors).toBe(before);
    await expect(model.generate([[]], { maxNewTokens: 2 })).rejects.toThrow(/prompt 0 is empty/);
    await expect(model.generate([[99999]], { maxNewTokens: 2 })).rejects.toThrow(
      /outside \[0, 262\)/,
    );
    await expect(model.generate([[1]], { maxNewTokens: -1 })).rejects.toThrow(/maxNewTokens/);
    const bare = createRandomModel(TINY_CONFIG, 1);
    await expect(
      bare.generate([[1]], { maxNewTokens: 2, stopStrings: ['x'] }),
    ).rejects.toMatchObject({ code: 'NO_TOKENIZER' });
    const [noText] = await bare.generate([[1]], { maxNewTokens: 2 });
    expect(noText!.text).toBe('');
    bare.dispose();
  });
});
