import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../../test/paths.js';
import { mmluFewShot } from '../mmlu.js';
import { MMLU_SUBJECTS, mmluCategory } from '../mmlu-subjects.js';
import { loadMmlu } from './mmlu.js';

interface Row {
  subject: string;
  question: string;
  choices: string[];
  answer: string;
}
const expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8')) as {
  mmlu: Record<string, Row[]>;
};
const strip = (items: { subject: string; question: string; choices: string[]; answer: string }[]) =>
  items.map(({ subject, question, choices, answer }) => ({ subject, question, choices, answer }));

describe('MMLU_SUBJECTS', () => {
  it('lists 57 subjects over the four categories of categories.py', () => {
    const cats = Object.values(MMLU_SUBJECTS).map((s) => s.category);
    expect(cats).toHaveLength(57);
    const count = (c: string) => cats.filter((x) => x === c).length;
    // Counts per category as in hendrycks/test categories.py.
    expect([count('STEM'), count('humanities'), count('social sciences'), count('other')]).toEqual([
      18, 13, 12, 14,
    ]);
    expect(mmluCategory('high_school_us_history')).toBe('humanities');
    expect(mmluCategory('virology')).toBe('other');
    expect(mmluCategory('toString')).toBeUndefined();
  });
});

describe('loadMmlu (committed fixtures)', () => {
  for (const split of ['dev', 'val', 'test'] as const) {
    it(`${split} CSV matches Python's csv module (quotes, commas, newlines)`, async () => {
      const { items, skipped } = await loadMmlu({ path: join(FIXTURES, 'mmlu'), split });
      expect(skipped).toEqual([]);
      expect(strip(items)).toEqual(expected.mmlu[split]);
      expect(items.every((it) => it.split === split)).toBe(true);
    });

    it(`${split} parquet (cais/mmlu layout) gives the same items as the CSV`, async () => {
      const csv = await loadMmlu({ path: join(FIXTURES, 'mmlu'), split });
      const pq = await loadMmlu({ path: join(FIXTURES, 'parquet', 'mmlu'), split });
      expect(pq.items).toEqual(csv.items);
    });
  }

  it('has a multi-line quoted question in the fixture and keeps its newlines', async () => {
    const { items } = await loadMmlu({
      path: join(FIXTURES, 'mmlu'),
      split: 'test',
      subjects: ['high_school_us_history'],
    });
    expect(items[0]?.question).toContain('\n');
    expect(items[0]?.question).toContain('"The far-reaching');
    expect(items[0]?.category).toBe('humanities');
    expect(items[0]?.id).toBe('mmlu/test/high_school_us_history/0');
  });

  it('mmluFewShot takes the first k dev items of the subject', async () => {
    const { items } = await loadMmlu({ path: join(FIXTURES, 'mmlu'), split: 'dev' });
    const shots = mmluFewShot(items, 'virology', 3);
    expect(shots.map((s) => s.id)).toEqual([
      'mmlu/dev/virology/0',
      'mmlu/dev/virology/1',
      'mmlu/dev/virology/2',
    ]);
  });

  it('rejects an unknown subject filter', async () => {
    await expect(
      loadMmlu({ path: join(FIXTURES, 'mmlu'), subjects: ['astrology'] }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

describe('loadMmlu bad input', () => {
  const dirWith = async (csv: string): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'mmlu-'));
    await mkdir(join(dir, 'test'));
    await writeFile(join(dir, 'test', 'anatomy_test.csv'), csv);
    return dir;
  };

  it('names file and line of a row with the wrong column count', async () => {
    const dir = await dirWith('q1,a,b,c,d,A\n"multi\nline q",a,b,c,d,B\nq3,a,b,c,A\n');
    const err = await loadMmlu({ path: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'BAD_RECORD',
      line: 4,
      file: join(dir, 'test', 'anatomy_test.csv'),
    });
  });

  it('skips and reports a bad answer letter and an unterminated quote', async () => {
    const dir = await dirWith('q1,a,b,c,d,A\nq2,a,b,c,d,E\nq3,a,b,c,d,c\n"open,a,b,c,d,A\nx,y\n');
    const { items, skipped } = await loadMmlu({ path: dir, onError: 'skip' });
    expect(items.map((i) => [i.question, i.answer])).toEqual([
      ['q1', 'A'],
      ['q3', 'C'],
    ]);
    expect(skipped.map((s) => s.line)).toEqual([2, 4]);
    expect(skipped[1]?.message).toContain('unterminated');
  });

  it('accepts CRLF line endings and a BOM', async () => {
    const dir = await dirWith('\ufeffq1,a,"b, c",c,d,A\r\nq2,"say ""hi""",b,c,d,B\r\n');
    const { items } = await loadMmlu({ path: dir });
    expect(items.map((i) => i.choices[1])).toEqual(['b, c', 'b']);
    expect(items[1]?.choices[0]).toBe('say "hi"');
  });
});
