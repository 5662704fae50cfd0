// TRL's three loss options (importanceSamplingLevel, delta, topEntropyQuantile): float64 PyTorch
// references (test/fixtures/gen_loss.py), hand-computed cases, config validation and end-to-end
// updates on a tiny model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng } from '@atmanrl/model';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { expectClose, read, useCpuBackend } from '../test/helpers.js';
import { EOS, TARGET, tinyModel } from '../test/tiny.js';
import { type GrpoConfigInput, resolveGrpoConfig } from './config.js';
import { GrpoError } from './errors.js';
import {
  type PolicyLossInputs,
  type PolicyLossOptions,
  perTokenPolicyLoss,
  policyLoss,
  policyLossStats,
} from './loss.js';
import type { RewardSpec } from './rewards.js';
import { createOptimizer, grpoStep } from './step.js';
import { type UpdateEpisode, updatePolicy } from './update.js';

useCpuBackend();

interface Fixture {
  B: number;
  T: number;
  logProbs: number[];
  oldLogProbs: number[];
  refLogProbs: number[];
  entropy: number[];
  mask: number[];
  advantages: number[];
  tokenAdvantages: number[];
  cases: {
    options: PolicyLossOptions & { maxCompletionLength?: number };
    perTokenAdvantages: boolean;
    loss: number;
    grad: number[];
    clipStats: number[];
  }[];
}

const fx = JSON.parse(
  readFileSync(join(import.meta.dirname, '../test/fixtures/loss-options.json'), 'utf8'),
) as Fixture;

/** Loss value, d loss / d logProbs and the stats row of `policyLoss` on the given tensors. */
async function evaluate(
  x: PolicyLossInputs,
  options: PolicyLossOptions,
): Promise<{ loss: number; grad: number[]; stats: number[] }> {
  const { logProbs, ...rest } = x;
  const { value, grad } = tf.valueAndGrad((lp: tf.Tensor) =>
    policyLoss({ ...rest, logProbs: lp as tf.Tensor2D }, options),
  )(logProbs);
  const stats = policyLossStats(x, options);
  const out = { loss: (await read(value))[0]!, grad: await read(grad), stats: await read(stats) };
  tf.dispose([value, grad, stats]);
  return out;
}

function fixtureInputs(perTokenAdvantages: boolean): PolicyLossInputs {
  const s: [number, number] = [fx.B, fx.T];
  return {
    logProbs: tf.tensor2d(fx.logProbs, s),
    oldLogProbs: tf.tensor2d(fx.oldLogProbs, s),
    refLogProbs: tf.tensor2d(fx.refLogProbs, s),
    entropy: tf.tensor2d(fx.entropy, s),
    mask: tf.tensor2d(fx.mask, s),
    advantages: perTokenAdvantages
      ? tf.tensor2d(fx.tokenAdvantages, s)
      : tf.tensor1d(fx.advantages),
  };
}

const disposeInputs = (x: PolicyLossInputs): void =>
  tf.dispose(Object.values(x).filter((t): t is tf.Tensor => t instanceof tf.Tensor));

const name = (c: Fixture['cases'][number]): string =>
  `${JSON.stringify(c.options)}${c.perTokenAdvantages ? ', [B,T] advantages' : ''}`;

describe('loss options against float64 PyTorch (TRL definitions)', () => {
  it('the fixture exercises every option', () => {
    const opts = fx.cases.map((c) => c.options);
    expect(opts.some((o) => o.importanceSamplingLevel === 'sequence')).toBe(true);
    expect(opts.some((o) => o.delta != null)).toBe(true);
    expect(opts.some((o) => (o.topEntropyQuantile ?? 1) < 1)).toBe(true);
    expect(fx.cases.length).toBeGreaterThanOrEqual(15);
  });

  for (const c of fx.cases) {
    it(`${name(c)}: value, gradient and clip statistics`, async () => {
      const before = tf.memory().numTensors;
      const x = fixtureInputs(c.perTokenAdvantages);
      const got = await evaluate(x, c.options);
      disposeInputs(x);
      expect(tf.memory().numTensors).toBe(before);
      expectClose([got.loss], [c.loss], 1e-6);
      expectClose(got.grad, c.grad, 1e-6);
      expectClose(got.stats.slice(0, 3), c.clipStats, 1e-6);
      expect(got.stats[4]).toBe(16);
    });
  }
});

describe('importanceSamplingLevel: sequence', () => {
  it('one sequence, hand-computed: ρ = exp(mean log-ratio) for every token, gradient ρ·A/len', async () => {
    // log-ratios 0.1 and -0.3 on the two active tokens -> mean -0.1; third token is padding
    const x = {
      logProbs: tf.tensor2d([[-0.9, -1.3, 0]]),
      oldLogProbs: tf.tensor2d([[-1.0, -1.0, 0]]),
      advantages: tf.tensor1d([2]),
      mask: tf.tensor2d([[1, 1, 0]]),
    };
    const got = await evaluate(x, {
      lossType: 'grpo',
      epsilon: 0.2,
      importanceSamplingLevel: 'sequence',
    });
    const rho = Math.exp(-0.1);
    expectClose([got.loss], [-2 * rho], 1e-6);
    expectClose(got.grad, [-rho, -rho, 0], 1e-6); // d/dlp_t of -A·exp(mean) = -A·ρ/2
    tf.dispose(Object.values(x));
  });

  it('equal per-token ratios in each sequence: value and gradient equal token level', async () => {
    const old = [
      [-1, -2, -0.5, -1.5],
      [-0.3, -0.8, -1.1, 0],
      [-2, -0.2, 0, 0],
    ];
    const shift = [0.15, -0.4, 0.3]; // ρ = e^0.15 (in range), e^-0.4 (clipped for A<0), e^0.3
    const mask = [
      [1, 1, 1, 1],
      [1, 1, 1, 0],
      [1, 1, 0, 0],
    ];
    const lp = old.map((r, i) => r.map((v, j) => (mask[i]![j] ? v + shift[i]! : 0)));
    for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as const) {
      const mk = () => ({
        logProbs: tf.tensor2d(lp),
        oldLogProbs: tf.tensor2d(old.map((r, i) => r.map((v, j) => (mask[i]![j] ? v : 0)))),
        advantages: tf.tensor1d([1, -1, 0.5]),
        mask: tf.tensor2d(mask),
      });
      const opts = { lossType, epsilon: 0.2, maxCompletionLength: 5 };
      const a = mk();
      const b = mk();
      const tok = await evaluate(a, opts);
      const seq = await evaluate(b, { ...opts, importanceSamplingLevel: 'sequence' });
      expectClose([seq.loss], [tok.loss], 1e-6);
      expectClose(seq.grad, tok.grad, 1e-6);
      expect(Math.max(...tok.grad.map(Math.abs))).toBeGreaterThan(0.01);
      tf.dispose([...Object.values(a), ...Object.values(b)]);
    }
  });
});

describe('delta (two-sided clipping)', () => {
  it('hand-computed: A < 0 with ρ = 3 > delta = 2 gives loss 2·|A| and no gradient', async () => {
    const mk = () => ({
      logProbs: tf.tensor2d([[Math.log(3)]]),
      oldLogProbs: tf.tensor2d([[0]]),
      advantages: tf.tensor1d([-1]),
      mask: tf.tensor2d([[1]]),
    });
    const a = mk();
    const off = await evaluate(a, { lossType: 'bnpo', epsilon: 0.2 });
    expectClose([off.loss, ...off.grad], [3, 3], 1e-6); // -min(-3, -1.2) = 3; d/dlp = -A·ρ = 3
    const b = mk();
    const on = await evaluate(b, { lossType: 'bnpo', epsilon: 0.2, delta: 2 });
    expectClose([on.loss, ...on.grad], [2, 0], 1e-6); // -min(-2, -1.2) = 2, constant
    tf.dispose([...Object.values(a), ...Object.values(b)]);
  });

  it('delta above every ratio changes nothing (value, gradient, statistics)', async () => {
    const x = fixtureInputs(false);
    const maxRatio = Math.max(
      ...fx.logProbs.map((v, i) => (fx.mask[i] ? Math.exp(v - fx.oldLogProbs[i]!) : 0)),
    );
    expect(maxRatio).toBeGreaterThan(2);
    for (const level of ['token', 'sequence'] as const) {
      const opts = { lossType: 'dapo' as const, epsilon: 0.2, importanceSamplingLevel: level };
      const off = await evaluate(x, opts);
      const on = await evaluate(x, { ...opts, delta: maxRatio + 0.01 });
      expect(on).toEqual(off);
    }
    disposeInputs(x);
  });
});

describe('topEntropyQuantile', () => {
  it('hand-computed: ρ = 0.5 of entropies [0.1, 0.5, 0.9, 1.3] keeps those ≥ 0.7 (torch.quantile)', async () => {
    // 4 active tokens; the (1 - 0.5) quantile: rank 0.5·3 = 1.5 -> 0.5 + 0.5·(0.9 - 0.5) = 0.7.
    // Padding has the largest entropy and must not count. On-policy: per-token loss -A.
    const lp = [[-1, -1, -1, -1, -1]];
    const x = {
      logProbs: tf.tensor2d(lp),
      oldLogProbs: tf.tensor2d(lp),
      advantages: tf.tensor1d([2]),
      mask: tf.tensor2d([[1, 1, 1, 1, 0]]),
      entropy: tf.tensor2d([[0.9, 0.1, 1.3, 0.5, 9]]),
    };
    const got = await evaluate(x, { lossType: 'dapo', epsilon: 0.2, topEntropyQuantile: 0.5 });
    expectClose([got.loss], [(-2 * 2) / 4], 1e-6); // two kept tokens, / 4 active tokens
    expectClose(got.grad, [-0.5, 0, -0.5, 0, 0], 1e-6);
    // a tie with the threshold is kept (≥): ρ = 0.25 of [1, 2, 2, 2] -> rank 2.25 -> 2
    const tie = {
      ...x,
      entropy: tf.tensor2d([[2, 1, 2, 2, 0]]),
    };
    const t = await evaluate(tie, { lossType: 'dapo', epsilon: 0.2, topEntropyQuantile: 0.25 });
    expectClose(t.grad, [-0.5, 0, -0.5, -0.5, 0], 1e-6);
    tf.dispose([...Object.values(x), tie.entropy]);
  });

  it('quantile 1 equals off, with or without entropy; the KL term is not masked', async () => {
    const x = fixtureInputs(false);
    const base = { lossType: 'bnpo' as const, epsilon: 0.2, beta: 0.1 };
    const off = await evaluate(x, base);
    expect(await evaluate(x, { ...base, topEntropyQuantile: 1 })).toEqual(off);
    const { entropy, ...noEntropy } = x;
    expect(await evaluate(noEntropy, { ...base, topEntropyQuantile: 1 })).toEqual(off);
    // the tiniest quantile keeps one token's policy term, but every token keeps its KL gradient
    const few = await evaluate(x, { ...base, topEntropyQuantile: 0.01 });
    expect(few.grad.filter((g, i) => fx.mask[i] && g !== 0).length).toBe(16);
    disposeInputs(x);
    entropy?.dispose();
  });

  it('the mask gets no gradient: d loss / d entropy is 0; no active token masks everything', async () => {
    const x = fixtureInputs(false);
    const opts: PolicyLossOptions = { lossType: 'grpo', epsilon: 0.2, topEntropyQuantile: 0.3 };
    const before = tf.memory().numTensors;
    const g = tf.grads((lp: tf.Tensor, e: tf.Tensor) =>
      policyLoss({ ...x, logProbs: lp as tf.Tensor2D, entropy: e as tf.Tensor2D }, opts),
    )([x.logProbs, x.entropy!]);
    expect(Math.max(...(await read(g[1]!)).map(Math.abs))).toBe(0);
    expect(Math.max(...(await read(g[0]!)).map(Math.abs))).toBeGreaterThan(0.01);
    tf.dispose(g);
    const zeroMask = tf.zerosLike(x.mask);
    const per = perTokenPolicyLoss({ ...x, mask: zeroMask }, opts);
    expect(Math.max(...(await read(per)).map(Math.abs))).toBe(0);
    tf.dispose([per, zeroMask]);
    expect(tf.memory().numTensors).toBe(before);
    disposeInputs(x);
  });

  it('needs entropy when on, and valid option values: BAD_ARGUMENT naming them', () => {
    const x = fixtureInputs(false);
    const { entropy, ...rest } = x;
    expect(() =>
      policyLoss(rest, { lossType: 'dapo', epsilon: 0.2, topEntropyQuantile: 0.2 }),
    ).toThrow(/topEntropyQuantile = 0.2 needs entropy/);
    expect(() => policyLoss(x, { lossType: 'dapo', epsilon: 0.2, topEntropyQuantile: 0 })).toThrow(
      /topEntropyQuantile = 0 is invalid/,
    );
    expect(() => policyLoss(x, { lossType: 'dapo', epsilon: 0.2, delta: Number.NaN })).toThrow(
      /delta = NaN is invalid/,
    );
    disposeInputs(x);
    entropy?.dispose();
  });
});

describe('defaults are unchanged', () => {
  it('bit-identical to the pre-option formula -min(ρA, clip(ρ)A) for the default options', async () => {
    const x = fixtureInputs(false);
    const opts: PolicyLossOptions = { lossType: 'dapo', epsilon: 0.2, epsilonHigh: 0.28 };
    const explicit = {
      ...opts,
      importanceSamplingLevel: 'token' as const,
      delta: null,
      topEntropyQuantile: 1,
    };
    const ref = tf.tidy(() => {
      const ratio = tf.exp(tf.sub(x.logProbs, x.oldLogProbs));
      const a = tf.expandDims(x.advantages, 1);
      const clipped = tf.clipByValue(ratio, 0.8, 1.28);
      return tf.neg(tf.minimum(tf.mul(ratio, a), tf.mul(clipped, a)));
    });
    const got = perTokenPolicyLoss(x, opts);
    const gotExplicit = perTokenPolicyLoss(x, explicit);
    expect(await read(got)).toEqual(await read(ref));
    expect(await read(gotExplicit)).toEqual(await read(ref));
    tf.dispose([ref, got, gotExplicit]);
    disposeInputs(x);
  });
});

describe('GrpoConfig validation of the loss options', () => {
  it('defaults: token level, no delta, all tokens', () => {
    expect(resolveGrpoConfig()).toMatchObject({
      importanceSamplingLevel: 'token',
      delta: null,
      topEntropyQuantile: 1,
    });
    expect(
      resolveGrpoConfig({ importanceSamplingLevel: 'sequence', delta: 4, topEntropyQuantile: 0.2 }),
    ).toMatchObject({ importanceSamplingLevel: 'sequence', delta: 4, topEntropyQuantile: 0.2 });
  });

  it('rejects bad values with GrpoError BAD_CONFIG naming the option and its range', () => {
    const bad = (c: GrpoConfigInput, re: RegExp): void => {
      let err: unknown;
      try {
        resolveGrpoConfig(c);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(GrpoError);
      expect((err as GrpoError).code).toBe('BAD_CONFIG');
      expect((err as Error).message).toMatch(re);
    };
    bad({ importanceSamplingLevel: 'seq' as never }, /importanceSamplingLevel 'seq'.*'sequence'/);
    bad({ delta: 1.2 }, /delta = 1.2 is invalid.*> 1 \+ epsilonHigh = 1.2/);
    bad({ delta: 1.25, epsilonHigh: 0.28 }, /delta = 1.25 .*= 1.28/);
    bad({ delta: Number.POSITIVE_INFINITY }, /delta = Infinity/);
    bad(
      { topEntropyQuantile: 0 },
      /topEntropyQuantile = 0 is invalid; expected a fraction in \(0, 1\]/,
    );
    bad({ topEntropyQuantile: 1.5 }, /topEntropyQuantile = 1.5/);
    bad({ topEntropyQuantile: Number.NaN }, /topEntropyQuantile = NaN/);
    expect(resolveGrpoConfig({ delta: 1.21 }).delta).toBe(1.21);
  });
});

describe('end to end on a tiny model', () => {
  // off-policy "old" log-probs so that ratios differ from 1 and every option matters
  const episodes: UpdateEpisode[] = [
    {
      promptIds: [1, 2],
      completionIds: [3, 4, 5, EOS],
      oldLogProbs: [-1.2, -3.5, -1.0, -2.9],
      advantage: -1,
      truncated: false,
    },
    {
      promptIds: [1, 5],
      completionIds: [6, EOS],
      oldLogProbs: [-3.2, -1.4],
      advantage: 1,
      truncated: false,
    },
  ];

  const run = async (
    c: GrpoConfigInput,
  ): Promise<{ loss: number; gradNorm: number; leaked: number }> => {
    const model = tinyModel(3);
    const optimizer = createOptimizer(model);
    const before = tf.memory().numTensors;
    const stats = await updatePolicy(
      { policy: model, optimizer },
      episodes,
      resolveGrpoConfig({ gradientAccumulationSteps: 2, numIterations: 2, ...c }),
    );
    const leaked = tf.memory().numTensors - before;
    optimizer.dispose();
    model.dispose();
    return { loss: stats.microBatches[0]!.loss, gradNorm: stats.gradNorms[0]!, leaked };
  };

  it('updatePolicy with each option: finite loss, a different first update, no tensor leak', async () => {
    const base = await run({});
    expect(base.leaked).toBe(0);
    for (const c of [
      { importanceSamplingLevel: 'sequence' as const },
      { delta: 1.25 },
      { topEntropyQuantile: 0.5 },
      { importanceSamplingLevel: 'sequence' as const, delta: 1.25, topEntropyQuantile: 0.5 },
    ]) {
      const got = await run(c);
      expect(got.leaked, JSON.stringify(c)).toBe(0);
      expect(Number.isFinite(got.loss) && Number.isFinite(got.gradNorm)).toBe(true);
      expect(Math.abs(got.gradNorm - base.gradNorm), JSON.stringify(c)).toBeGreaterThan(1e-6);
    }
  });

  it('grpoStep with all three options twice: finite metrics, no tensor leak', async () => {
    const model = tinyModel(1);
    const optimizer = createOptimizer(model);
    const reward: RewardSpec<string> = {
      name: 'target',
      fn: async (_s, cs) => cs.map((c) => c.tokenIds.filter((t) => t === TARGET).length),
    };
    const opts = {
      policy: model,
      optimizer,
      rewards: [reward],
      rng: createRng(2),
      config: {
        numGenerations: 4,
        maxCompletionLength: 4,
        learningRate: 0.01,
        numIterations: 2,
        lossType: 'grpo' as const,
        importanceSamplingLevel: 'sequence' as const,
        delta: 4,
        topEntropyQuantile: 0.2,
        eosTokenIds: [EOS],
      },
    };
    const batch = { samples: ['a', 'b'], promptIds: [[1, 2], [4]] };
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const { metrics } = await grpoStep(opts, batch);
      for (const k of ['loss', 'grad_norm', 'entropy', 'clip_ratio/region_mean'])
        expect(Number.isFinite(metrics[k]), k).toBe(true);
      expect(tf.memory().numTensors).toBe(before);
    }
    optimizer.dispose();
    model.dispose();
  });
});
