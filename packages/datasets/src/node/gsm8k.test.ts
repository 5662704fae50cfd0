import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../../test/paths.js';
import { DatasetError } from '../errors.js';
import { parseGsm8kSolution } from '../gsm8k.js';
import { normalizeNumber } from '../numbers.js';
import { loadGsm8k } from './gsm8k.js';

interface Expected {
  gsm8k: Record<string, { question: string; gold: string; reasoning: string }[]>;
}
const expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

describe('parseGsm8kSolution', () => {
  it('drops calculator annotations and the #### line, removes commas from the gold', () => {
    expect(parseGsm8kSolution('Total 2*3=<<2*3=6>>6.\nThen 1,000.\n#### 1,000')).toEqual({
      reasoning: 'Total 2*3=6.\nThen 1,000.',
      gold: '1000',
    });
    expect(parseGsm8kSolution('no gold here')).toBeNull();
    expect(parseGsm8kSolution('x\n#### twelve')).toBeNull();
  });
});

describe('loadGsm8k (committed fixtures)', () => {
  for (const split of ['train', 'test'] as const) {
    it(`${split}.jsonl matches the Python reference (questions, golds, reasoning)`, async () => {
      const { items, skipped } = await loadGsm8k({ path: join(FIXTURES, 'gsm8k'), split });
      const want = expected.gsm8k[split] ?? [];
      expect(skipped).toEqual([]);
      expect(items.length).toBe(want.length);
      items.forEach((it, i) => {
        expect(it.question).toBe(want[i]?.question);
        expect(it.gold).toBe(normalizeNumber(want[i]?.gold ?? ''));
        expect(it.reasoning).toBe(want[i]?.reasoning);
        expect(it.id).toBe(`gsm8k/${split}/${i}`);
      });
      expect(items.some((it) => it.gold.startsWith('-'))).toBe(true);
    });

    it(`${split} parquet (openai/gsm8k layout) gives the same items as the JSONL`, async () => {
      const jsonl = await loadGsm8k({ path: join(FIXTURES, 'gsm8k', `${split}.jsonl`) });
      const pq = await loadGsm8k({ path: join(FIXTURES, 'parquet', 'gsm8k'), split });
      expect(pq.items.map(({ id: _, ...r }) => r)).toEqual(jsonl.items.map(({ id: _, ...r }) => r));
      expect(pq.items[0]?.id).toBe(`gsm8k/${split}/0`);
    });
  }
});

describe('loadGsm8k bad input', () => {
  const write = async (text: string): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'gsm8k-'));
    const file = join(dir, 'test.jsonl');
    await writeFile(file, text);
    return file;
  };
  const good = JSON.stringify({ question: 'q', answer: 'a\n#### 3' });

  it('throws BAD_RECORD naming file and line for broken JSON', async () => {
    const file = await write(`${good}\n{"question": "q", \n${good}\n`);
    const err = await loadGsm8k({ path: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as DatasetError).code).toBe('BAD_RECORD');
    expect((err as DatasetError).line).toBe(2);
    expect((err as DatasetError).message).toContain(`${file}:2`);
  });

  it('names a split that contradicts the file it is given', async () => {
    const file = await write(`${good}\n`); // test.jsonl
    await expect(loadGsm8k({ path: file, split: 'train' })).rejects.toThrow(
      /split "train" contradicts the file .*test\.jsonl \(a test file\); pass split "test"/,
    );
    expect((await loadGsm8k({ path: file, split: 'test' })).items).toHaveLength(1);
    expect((await loadGsm8k({ path: file })).items).toHaveLength(1);
  });

  it("skips and counts bad records with onError: 'skip' (missing field, no ####)", async () => {
    const file = await write(
      [
        good,
        '{"question": "q"}',
        JSON.stringify({ question: 'q', answer: 'no gold' }),
        '',
        good,
        'oops',
      ].join('\n'),
    );
    const warnings: string[] = [];
    const { items, skipped } = await loadGsm8k({
      path: file,
      onError: 'skip',
      logger: { info: () => {}, warn: (m) => warnings.push(m) },
    });
    expect(items.map((i) => i.id)).toEqual(['gsm8k/test/0', 'gsm8k/test/4']);
    expect(skipped.map((s) => s.line)).toEqual([2, 3, 6]);
    expect(warnings).toHaveLength(3);
  });

  it('throws NOT_FOUND for a missing path or split', async () => {
    await expect(loadGsm8k({ path: join(FIXTURES, 'nope') })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(loadGsm8k({ path: join(FIXTURES, 'mmlu'), split: 'test' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
