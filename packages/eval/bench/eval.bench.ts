// Benchmarks (never part of `pnpm test`): one forced-answer batch and one erasure batch on the
// tiny fixture model. Run: pnpm --filter @atmanrl/eval bench
import type { LlamaModel } from '@atmanrl/model';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { forceAnswers, goldProbabilities } from '../src/index.js';
import { loadTinyModel, setUpBackend } from '../test/tiny-models.js';

let model: LlamaModel;
let promptIds: number[];
beforeAll(async () => {
  await setUpBackend();
  model = await loadTinyModel('uses-cot');
  promptIds = model.tokenizer!.encode('Q: 3+4=? A:');
});
afterAll(() => model?.dispose());

describe('probes (tiny model, 16 rows)', () => {
  bench('forceAnswers x16', async () => {
    await forceAnswers(
      model,
      Array.from({ length: 16 }, () => ({ promptIds, text: ' 3+4=7. ####' })),
      {
        kind: 'number',
      },
    );
  });
  bench('goldProbabilities x16 removal sets', async () => {
    const enc = (t: string) => model.tokenizer!.encode(t, { addSpecialTokens: false });
    const item = {
      promptIds,
      cotIds: enc(' 3+4=7.'),
      delimiterIds: enc(' ####'),
      goldAnswerIds: enc(' 7'),
    };
    await goldProbabilities(
      model,
      item,
      Array.from({ length: 16 }, (_, i) => [i % 7]),
    );
  });
});
