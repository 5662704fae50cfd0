// One GRPO step on a ~10M-parameter Llama on wasm: G = 8 completions of 64 tokens for one prompt,
// μ = 1, one micro-batch. Prints the per-phase split (time/generation, time/reward, time/update).
// Run: pnpm --filter @atmanrl/grpo bench   (ATMANRL_BACKEND=cpu|wasm overrides the backend)
import { initBackend } from '@atmanrl/attention-mask/node';
import { countParameters, createRandomModel, createRng } from '@atmanrl/model';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { createOptimizer, type GrpoMetrics, grpoStep, type RewardSpec } from '../src/index.js';

const config = {
  vocab_size: 8192,
  hidden_size: 256,
  intermediate_size: 688,
  num_hidden_layers: 8,
  num_attention_heads: 4,
  num_key_value_heads: 4,
  tie_word_embeddings: false,
  eos_token_id: 8191,
  pad_token_id: 0,
  max_position_embeddings: 256,
};
const reward: RewardSpec<null> = {
  name: 'even',
  fn: async (_s, cs) =>
    cs.map((c) => c.tokenIds.filter((t) => t % 2 === 0).length / Math.max(1, c.tokenIds.length)),
};
const grpo = {
  numGenerations: 8,
  maxCompletionLength: 64,
  learningRate: 1e-5,
  eosTokenIds: [] as number[],
};
const model = createRandomModel(config, 0);
const optimizer = createOptimizer(model, grpo);
const rng = createRng(0);
const batch = { samples: [null], promptIds: [Array.from({ length: 16 }, (_, i) => 10 + i)] };
const runs: GrpoMetrics[] = [];
let backend = '';

beforeAll(async () => {
  backend = (await initBackend({ prefer: 'wasm' })).detail;
});
afterAll(() => {
  const keys = ['time/generation', 'time/reward', 'time/update', 'tokens_per_second'];
  const mean = (k: string): string =>
    (runs.reduce((s, m) => s + m[k]!, 0) / runs.length).toFixed(3);
  console.log(
    `grpo step, ${countParameters(model.config)} params, ${backend}, G=8, 64 new tokens, ${runs.length} runs: ` +
      keys.map((k) => `${k}=${mean(k)}`).join(' '),
  );
  optimizer.dispose();
  model.dispose();
});

describe('grpoStep', () => {
  bench(
    '~10M params, G=8, 64-token completions',
    async () => {
      const { metrics } = await grpoStep(
        { policy: model, optimizer, rewards: [reward], rng, config: grpo },
        batch,
      );
      runs.push(metrics);
    },
    { iterations: 2, warmupIterations: 0, time: 0, warmupTime: 0 },
  );
});
