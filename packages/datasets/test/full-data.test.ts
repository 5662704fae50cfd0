// Full GSM8K / MMLU counts on shared/data when it exists; the fixture variant always runs.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASET_MANIFEST } from '../src/manifest.js';
import { MMLU_SUBJECTS } from '../src/mmlu-subjects.js';
import { loadGsm8k } from '../src/node/gsm8k.js';
import { loadMmlu } from '../src/node/mmlu.js';
import { FIXTURES, HAS_SHARED_DATA, SHARED_DATA } from './paths.js';

describe.skipIf(!HAS_SHARED_DATA)(`full data from ${SHARED_DATA} (skipped when absent)`, () => {
  it('GSM8K: test 1,319 and train 7,473 items, none skipped, every gold numeric', async () => {
    const test = await loadGsm8k({ path: join(SHARED_DATA, 'gsm8k'), split: 'test' });
    const train = await loadGsm8k({ path: join(SHARED_DATA, 'gsm8k'), split: 'train' });
    expect(test.items.length).toBe(1319);
    expect(train.items.length).toBe(7473);
    for (const it of [...test.items, ...train.items]) {
      expect(it.gold).toMatch(/^-?\d+(\.\d+)?$/);
      expect(it.reasoning).not.toContain('<<');
    }
  });

  it('the GSM8K manifest sizes and sha256 match the official files in shared/data', async () => {
    for (const f of DATASET_MANIFEST.gsm8k.files) {
      const bytes = await readFile(join(SHARED_DATA, 'gsm8k', f.name));
      expect(bytes.length).toBe(f.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
    }
  });

  it('MMLU: test 14,079, val 1,542, dev 285 over 57 subjects, all categorised', async () => {
    const counts: Record<string, number> = {};
    for (const split of ['test', 'val', 'dev'] as const) {
      const { items, skipped } = await loadMmlu({ path: join(SHARED_DATA, 'mmlu'), split });
      expect(skipped).toEqual([]);
      counts[split] = items.length;
      const subjects = new Set(items.map((i) => i.subject));
      expect(subjects.size).toBe(57);
      for (const s of subjects) expect(Object.hasOwn(MMLU_SUBJECTS, s)).toBe(true);
    }
    expect(counts).toEqual({ test: 14079, val: 1542, dev: 285 });
  });
});

describe('fixture data (always runs)', () => {
  it('GSM8K fixtures: 7 train and 6 test items', async () => {
    expect((await loadGsm8k({ path: join(FIXTURES, 'gsm8k'), split: 'train' })).items).toHaveLength(
      7,
    );
    expect((await loadGsm8k({ path: join(FIXTURES, 'gsm8k'), split: 'test' })).items).toHaveLength(
      6,
    );
  });
  it('MMLU fixtures: 4 subjects, dev 20 / val 8 / test 12', async () => {
    const n = async (split: 'dev' | 'val' | 'test') =>
      (await loadMmlu({ path: join(FIXTURES, 'mmlu'), split })).items.length;
    expect([await n('dev'), await n('val'), await n('test')]).toEqual([20, 8, 12]);
  });
});
