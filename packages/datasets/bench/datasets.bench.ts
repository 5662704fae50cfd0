// Throughput of the hot paths: answer parsing (per rollout), the generator, CSV/JSONL loading.
// Run: pnpm --filter @atmanrl/datasets bench   (uses shared/data when present, fixtures otherwise)
import { join } from 'node:path';
import { bench, describe } from 'vitest';
import { splitCompletion } from '../src/answer-parsing.js';
import { generateArithmeticProblem } from '../src/arithmetic.js';
import { loadGsm8k } from '../src/node/gsm8k.js';
import { loadMmlu } from '../src/node/mmlu.js';
import { FIXTURES, HAS_SHARED_DATA, SHARED_DATA } from '../test/paths.js';

const root = HAS_SHARED_DATA ? SHARED_DATA : FIXTURES;
const completion = `${'Janet sells 16 - 3 - 4 = 9 duck eggs a day. She makes 9 * 2 = $18 every day.\n'.repeat(8)}#### $18.00`;

describe('parsing', () => {
  bench('splitCompletion (numeric, ~700 chars)', () => {
    splitCompletion(completion, { kind: 'number' });
  });
  bench('splitCompletion (choice, no delimiter: fallback)', () => {
    splitCompletion('A cell is the unit of life. So the answer is (C).', { kind: 'choice' });
  });
});

describe('generation', () => {
  let i = 0;
  bench('generateArithmeticProblem (3 steps)', () => {
    generateArithmeticProblem(1, i++);
  });
});

describe(`loading (${HAS_SHARED_DATA ? 'full data' : 'fixtures'})`, () => {
  bench(
    'loadGsm8k train',
    async () => {
      await loadGsm8k({ path: join(root, 'gsm8k'), split: 'train' });
    },
    { iterations: 5 },
  );
  bench(
    'loadMmlu test (all subjects)',
    async () => {
      await loadMmlu({ path: join(root, 'mmlu'), split: 'test' });
    },
    { iterations: 5 },
  );
});
