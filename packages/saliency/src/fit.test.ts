import type { LlamaModel } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handCopyModel } from '../test/hand-model.js';
import { randomItems, setUpBackend, tinyModel } from '../test/helpers.js';
import { buildLayout } from './_internal/layout.js';
import { createObjective } from './_internal/objective.js';
import { SaliencyError } from './errors.js';
import { fitSaliencyMasks } from './fit.js';

let model: LlamaModel;
beforeAll(async () => {
  await setUpBackend();
  model = tinyModel(3);
});
afterAll(() => model.dispose());

const ITEMS = randomItems(
  [
    [5, 6, 1, 2],
    [2, 9, 2, 1],
    [7, 3, 0, 3],
    [1, 0, 1, 1],
  ],
  11,
);

describe('fitSaliencyMasks', () => {
  it('batched fit equals per-item fits (different lengths, padding excluded)', async () => {
    const opts = { steps: 15, lr: 0.01 };
    const batched = await fitSaliencyMasks(model, ITEMS, opts);
    const split = await fitSaliencyMasks(model, ITEMS, { ...opts, maxBatchSize: 3 }); // micro-batches 3 + 1
    expect(split).toHaveLength(ITEMS.length);
    split.forEach((r, i) => {
      r.theta.forEach((x, j) => {
        expect(x).toBeCloseTo(batched[i]!.theta[j]!, 5);
      });
    });
    for (let i = 0; i < ITEMS.length; i++) {
      const [single] = await fitSaliencyMasks(model, [ITEMS[i]!], opts);
      expect(batched[i]!.theta.length).toBe(ITEMS[i]!.cotIds.length);
      batched[i]!.theta.forEach((x, j) => {
        expect(x).toBeCloseTo(single!.theta[j]!, 5);
      });
      batched[i]!.losses.forEach((x, j) => {
        expect(x).toBeCloseTo(single!.losses[j]!, 5);
      });
      expect(batched[i]!.ceNoBias).toBeCloseTo(single!.ceNoBias, 5);
    }
    // the fit actually moved θ (else the comparison would be vacuous)
    expect(Math.max(...batched[0]!.theta.map((x) => Math.abs(x + 0.4)))).toBeGreaterThan(0.05);
  });

  it('a token budget gives the same fits as item-count batching (1e-6), in input order, no leaks', async () => {
    // widths P + |C|+|D|+|A| = 14, 4, 14, 4: packed longest first under 30 tokens into
    // [0, 2] (2 × (5 + 10) = 30) and [1, 3] (2 × (2 + 3) = 10); by count (3): [0, 1, 2], [3]
    const items = randomItems(
      [
        [5, 6, 1, 2],
        [1, 1, 1, 1],
        [4, 7, 1, 2],
        [2, 1, 0, 1],
      ],
      12,
    );
    const opts = { steps: 15, lr: 0.01 };
    const byCount = await fitSaliencyMasks(model, items, { ...opts, maxBatchSize: 3 });
    const seen: (readonly number[])[] = [];
    const before = tf.memory().numTensors;
    const byTokens = await fitSaliencyMasks(model, items, {
      ...opts,
      maxTokensPerBatch: 30,
      onStep: (s) => {
        if (s.step === 1) seen.push(s.batchItems);
      },
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toEqual([
      [0, 2],
      [1, 3],
    ]);
    byTokens.forEach((r, i) => {
      const w = byCount[i]!;
      expect(r.cotIds).toEqual([...items[i]!.cotIds]);
      expect(r.steps).toBe(w.steps);
      const got = [...r.theta, ...r.losses, r.h, r.ceNoBias, r.ceInitial, r.ceFinal];
      const want = [...w.theta, ...w.losses, w.h, w.ceNoBias, w.ceInitial, w.ceFinal];
      expect(got).toHaveLength(want.length);
      got.forEach((x, j) => {
        expect(Math.abs(x - want[j]!)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[j]!)));
      });
    });
    // the fit moved θ (else the comparison would be vacuous)
    expect(Math.max(...byTokens[0]!.theta.map((x) => Math.abs(x + 0.4)))).toBeGreaterThan(0.05);
    // a budget below every item fits each alone; with maxBatchSize too, both limits apply
    const alone: (readonly number[])[] = [];
    await fitSaliencyMasks(model, items, {
      steps: 1,
      maxTokensPerBatch: 1,
      onStep: (s) => alone.push(s.batchItems),
    });
    expect(alone).toEqual([[0], [2], [1], [3]]);
    const both: (readonly number[])[] = [];
    await fitSaliencyMasks(model, items, {
      steps: 1,
      maxTokensPerBatch: 10_000,
      maxBatchSize: 3,
      onStep: (s) => both.push(s.batchItems),
    });
    expect(both).toEqual([[0, 1, 2], [3]]);
  });

  it('rejects a bad maxTokensPerBatch naming the option', async () => {
    for (const v of [0, 1.5, -2]) {
      await expect(fitSaliencyMasks(model, ITEMS, { maxTokensPerBatch: v })).rejects.toMatchObject({
        code: 'BAD_OPTION',
        message: expect.stringMatching(/maxTokensPerBatch/),
      });
    }
  });

  it('prefix reuse equals full recomputation', async () => {
    for (const queries of ['all', 'answer'] as const) {
      const opts = { steps: 10, lr: 0.01, queries };
      const reuse = await fitSaliencyMasks(model, ITEMS, { ...opts, prefixReuse: true });
      const full = await fitSaliencyMasks(model, ITEMS, { ...opts, prefixReuse: false });
      reuse.forEach((r, i) => {
        r.theta.forEach((x, j) => {
          expect(x).toBeCloseTo(full[i]!.theta[j]!, 5);
        });
        r.losses.forEach((x, j) => {
          expect(x).toBeCloseTo(full[i]!.losses[j]!, 5);
        });
        expect(r.ceInitial).toBeCloseTo(full[i]!.ceInitial, 5);
      });
    }
  });

  it("the CE under the initial mask is step 1's loss, equal to its own evaluation without steps", async () => {
    const fitted = await fitSaliencyMasks(model, ITEMS, { steps: 2, lr: 0.01 });
    const evaluated = await fitSaliencyMasks(model, ITEMS, { steps: 0 });
    let withCot = 0;
    fitted.forEach((r, i) => {
      // steps: 0 evaluates it with a separate forward pass (no tape), under θ = c
      expect(evaluated[i]!.steps).toBe(0);
      expect(r.ceInitial).toBeCloseTo(evaluated[i]!.ceInitial, 6);
      if (r.cotIds.length === 0) {
        expect(r.ceInitial).toBeCloseTo(r.ceNoBias, 6); // nothing to suppress
        return;
      }
      withCot++;
      expect(r.ceInitial).toBe(r.losses[0]);
      // suppression changes the gold CE from the unmasked one (else the check would be vacuous)
      expect(Math.abs(r.ceInitial - r.ceNoBias)).toBeGreaterThan(1e-3);
    });
    expect(withCot).toBeGreaterThan(1);
  });

  it('diagnostics: false skips the unmasked and final CEs (NaN), the fit itself unchanged', async () => {
    const full = await fitSaliencyMasks(model, ITEMS, { steps: 3, lr: 0.05 });
    const before = tf.memory().numTensors;
    const lean = await fitSaliencyMasks(model, ITEMS, { steps: 3, lr: 0.05, diagnostics: false });
    expect(tf.memory().numTensors).toBe(before);
    lean.forEach((r, i) => {
      const f = full[i]!;
      expect(r.theta).toEqual(f.theta);
      expect(r.losses).toEqual(f.losses);
      expect([r.h, r.ceInitial, r.steps]).toEqual([f.h, f.ceInitial, f.steps]);
      expect(r.ceNoBias).toBeNaN();
      expect(r.ceFinal).toBeNaN();
      expect(Number.isFinite(f.ceNoBias) && Number.isFinite(f.ceFinal)).toBe(true);
    });
    expect(lean.some((r) => r.steps === 3)).toBe(true);
    await expect(
      fitSaliencyMasks(model, ITEMS, { diagnostics: 'no' as unknown as boolean }),
    ).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/diagnostics/) });
    // without a step, ceInitial still gets its own pass
    const none = await fitSaliencyMasks(model, ITEMS, { steps: 0, diagnostics: false });
    none.forEach((r, i) => {
      expect(r.ceInitial).toBeCloseTo(full[i]!.ceInitial, 6);
      expect(r.ceNoBias).toBeNaN();
    });
  });

  it('gradient of the objective w.r.t. θ matches central finite differences', async () => {
    const layout = buildLayout(ITEMS.slice(0, 3), model.config.vocab_size, 39);
    const obj = createObjective(model, layout, { prefixReuse: true, queries: 'all' });
    const { batch: b, cotMax } = layout;
    const th0 = Array.from({ length: b * cotMax }, (_, i) => -0.6 + (0.5 * ((i * 7919) % 13)) / 13);
    const f = (th: tf.Tensor) =>
      tf.sum(obj.perItemCe({ bias: obj.biasFromTheta(th as tf.Tensor2D, 10) }));
    const at = async (values: number[]) => {
      const out = tf.tidy(() => f(tf.tensor2d(values, [b, cotMax])));
      const v = (await out.data())[0]!;
      out.dispose();
      return v;
    };
    const gT = tf.tidy(() => tf.grad(f)(tf.tensor2d(th0, [b, cotMax])));
    const g = Array.from(await gT.data());
    gT.dispose();
    const h = 1e-2;
    let checked = 0;
    for (let i = 0; i < th0.length; i++) {
      if (layout.cotMask[i] === 0) {
        expect(Math.abs(g[i]!)).toBe(0); // padding slots get no gradient
        continue;
      }
      const plus = [...th0];
      plus[i]! += h;
      const minus = [...th0];
      minus[i]! -= h;
      const fd = ((await at(plus)) - (await at(minus))) / (2 * h);
      expect(Math.abs(g[i]! - fd)).toBeLessThan(2e-3 + 0.03 * Math.abs(fd));
      checked++;
    }
    expect(checked).toBe(6 + 9 + 3);
    expect(Math.max(...g.map(Math.abs))).toBeGreaterThan(1e-2); // non-trivial gradients
    obj.dispose();
  });

  it('does not leak tensors over a full 200-step fit', async () => {
    const before = tf.memory().numTensors;
    const res = await fitSaliencyMasks(model, ITEMS.slice(0, 2));
    expect(tf.memory().numTensors).toBe(before);
    expect(res[0]!.losses).toHaveLength(200);
    expect(res[0]!.steps).toBe(200);
  });

  it("queries: 'answer' biases only the loss rows (same as 'all' when only those rows read the CoT)", async () => {
    const hand = handCopyModel(); // one layer: only the delimiter row's attention reaches the answer
    const items = [
      { promptIds: [21, 1, 2, 3], cotIds: [4, 15, 5], delimiterIds: [20], goldAnswerIds: [15] },
    ];
    const all = await fitSaliencyMasks(hand, items, { steps: 5 });
    const ans = await fitSaliencyMasks(hand, items, { steps: 5, queries: 'answer' });
    all[0]!.theta.forEach((x, j) => {
      expect(x).toBeCloseTo(ans[0]!.theta[j]!, 5);
    });
    hand.dispose();
    // two layers: CoT rows feed the answer too, so restricting the bias changes the objective
    const a = await fitSaliencyMasks(model, ITEMS.slice(0, 1), { steps: 0 });
    const b = await fitSaliencyMasks(model, ITEMS.slice(0, 1), { steps: 0, queries: 'answer' });
    expect(Math.abs(a[0]!.ceInitial - b[0]!.ceInitial)).toBeGreaterThan(1e-4);
    expect(a[0]!.ceNoBias).toBeCloseTo(b[0]!.ceNoBias, 6);
  });

  it('early stop freezes plateaued items; onStep reports every step', async () => {
    const hand = handCopyModel();
    const items = [
      { promptIds: [22, 1, 12, 3], cotIds: [4, 5, 6], delimiterIds: [20], goldAnswerIds: [12] }, // flat loss
      { promptIds: [21, 1, 2, 3], cotIds: [4, 15, 5], delimiterIds: [20], goldAnswerIds: [15] },
    ];
    const seen: number[] = [];
    const res = await fitSaliencyMasks(hand, items, {
      steps: 40,
      earlyStop: { patience: 5, minDelta: 1e-4 },
      onStep: (info) => seen.push(info.activeItems),
    });
    expect(res[0]!.steps).toBe(6); // step 1 sets the best loss, then 5 steps without improvement
    expect(res[0]!.losses).toHaveLength(6);
    expect(res[1]!.steps).toBeGreaterThan(6);
    expect(seen[0]).toBe(2);
    expect(seen.at(-1)).toBeLessThanOrEqual(1);
    expect(seen).toHaveLength(Math.max(res[0]!.steps, res[1]!.steps));
    hand.dispose();
  });

  it('returns θ = c and no steps for an empty CoT; rejects bad options and items', async () => {
    const [r] = await fitSaliencyMasks(
      model,
      [{ promptIds: [1], cotIds: [], delimiterIds: [], goldAnswerIds: [2] }],
      { steps: 3 },
    );
    expect(r!.theta).toEqual([]);
    expect(r!.h).toBe(-0.4);
    expect(r!.steps).toBe(0);
    await expect(fitSaliencyMasks(model, ITEMS, { init: 0.1 })).rejects.toThrow(SaliencyError);
    await expect(fitSaliencyMasks(model, ITEMS, { steps: 1.5 })).rejects.toThrow(/steps/);
    await expect(fitSaliencyMasks(model, ITEMS, { queries: 'cot' as 'all' })).rejects.toThrow(
      /queries/,
    );
    await expect(
      fitSaliencyMasks(model, [
        { promptIds: [1], cotIds: [99], delimiterIds: [], goldAnswerIds: [2] },
      ]),
    ).rejects.toMatchObject({ code: 'BAD_ITEM' });
    await expect(
      fitSaliencyMasks(model, [
        { promptIds: [1], cotIds: [], delimiterIds: [], goldAnswerIds: [] },
      ]),
    ).rejects.toThrow(/goldAnswerIds is empty/);
  });

  it('names a bad item by its input index when the items are cut into batches, before any fit', async () => {
    const bad = { promptIds: [1], cotIds: [3, 99], delimiterIds: [], goldAnswerIds: [2] };
    const items = [ITEMS[0]!, ITEMS[1]!, ITEMS[2]!, bad];
    for (const cut of [{ maxBatchSize: 2 }, { maxBatchSize: 2, maxTokensPerBatch: 64 }]) {
      let steps = 0;
      await expect(
        fitSaliencyMasks(model, items, { steps: 2, ...cut, onStep: () => void steps++ }),
      ).rejects.toThrow(/^item 3: cotIds contains 99/);
      expect(steps).toBe(0); // rejected up front: the first batch was not fitted
    }
  });

  it('throws NON_FINITE naming the item whose loss is not finite, and leaks nothing', async () => {
    // A model whose hidden states are NaN on rows whose suffix starts with the marker id (the last
    // prompt token): only item 2 below.
    const marker = 38;
    const poisoned = Object.create(model) as LlamaModel;
    poisoned.hiddenStates = (ids, o) =>
      tf.tidy(() => {
        const h = model.hiddenStates(ids, o); // [B,T,D]
        if (ids === null) return h;
        const isMarker = tf.equal(tf.slice(ids, [0, 0], [-1, 1]), marker); // [B,1]
        const nan = tf.where(
          isMarker,
          tf.fill(isMarker.shape, Number.NaN),
          tf.zerosLike(isMarker).toFloat(),
        );
        return tf.add(h, tf.expandDims(nan, 2)) as tf.Tensor3D;
      });
    const items = ITEMS.map((it) => ({ ...it, promptIds: [...it.promptIds, 1] }));
    items[2] = { ...items[2]!, promptIds: [...ITEMS[2]!.promptIds, marker] };
    const before = tf.memory().numTensors;
    await expect(
      fitSaliencyMasks(poisoned, items, { steps: 2, maxBatchSize: 2 }),
    ).rejects.toMatchObject({
      code: 'NON_FINITE',
      message: expect.stringMatching(
        /^fitSaliencyMasks: item 2: the gold-answer CE without a mask is NaN; expected a finite number/,
      ),
    });
    expect(tf.memory().numTensors).toBe(before);
    // Items 0 and 1 (the first micro-batch) were fine: the same model fits them.
    const ok = await fitSaliencyMasks(poisoned, items.slice(0, 2), { steps: 1 });
    expect(ok.every((r) => Number.isFinite(r.h) && Number.isFinite(r.ceFinal))).toBe(true);
  });
});
