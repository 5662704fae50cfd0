import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIST_NODE, runNode, tempDir } from '../../test/helpers.js';
import { appendJsonLine, writeJsonAtomic } from './atomic.js';

describe('writeJsonAtomic', () => {
  it('replaces the file content', () => {
    const dir = tempDir();
    const f = join(dir, 'run.json');
    writeJsonAtomic(f, { a: 1 });
    writeJsonAtomic(f, { a: 2 });
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ a: 2 });
    expect(readdirSync(dir)).toEqual(['run.json']);
  });

  it('a crash between write and rename leaves the old file intact (simulated in a child process)', async () => {
    const dir = tempDir();
    const f = join(dir, 'run.json');
    writeFileSync(f, '{"status":"old"}\n');
    const { code } = await runNode(`
      import { writeJsonAtomic } from ${JSON.stringify(DIST_NODE)};
      writeJsonAtomic(${JSON.stringify(f)}, { status: 'new', pad: 'x'.repeat(100000) }, {
        beforeRename: () => process.exit(9), // the process dies: no rename, no cleanup
      });
    `);
    expect(code).toBe(9);
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ status: 'old' });
    // The durable temp file is left behind but never mistaken for the real one.
    expect(readdirSync(dir).filter((n) => n !== 'run.json')[0]).toMatch(/^\.run\.json\.tmp-/);
  });

  it('an exception before rename removes the temp file and keeps the old content', () => {
    const dir = tempDir();
    const f = join(dir, 'x.json');
    writeJsonAtomic(f, { v: 1 });
    expect(() =>
      writeJsonAtomic(
        f,
        { v: 2 },
        {
          beforeRename: () => {
            throw new Error('disk full');
          },
        },
      ),
    ).toThrow(/could not write .*x\.json: disk full/);
    expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ v: 1 });
    expect(readdirSync(dir)).toEqual(['x.json']);
  });
});

describe('appendJsonLine', () => {
  it('concurrent appends from two processes produce only whole lines', async () => {
    const dir = tempDir();
    const f = join(dir, 'samples.jsonl');
    const writer = (tag: string) => `
      import { appendJsonLine } from ${JSON.stringify(DIST_NODE)};
      for (let i = 0; i < 300; i++) appendJsonLine(${JSON.stringify(f)}, { tag: '${tag}', i, pad: '${tag}'.repeat(3000 + (i % 7) * 500) });
    `;
    const [a, b] = await Promise.all([runNode(writer('a')), runNode(writer('b'))]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const lines = readFileSync(f, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(600);
    const parsed = lines.map((l) => JSON.parse(l) as { tag: string; i: number; pad: string });
    for (const tag of ['a', 'b']) {
      const mine = parsed.filter((p) => p.tag === tag);
      expect(mine.map((p) => p.i)).toEqual(Array.from({ length: 300 }, (_, i) => i));
      expect(mine.every((p, i) => p.pad.length === 3000 + (i % 7) * 500)).toBe(true);
    }
  });

  it('writes one line per record', () => {
    const f = join(tempDir(), 'm.jsonl');
    appendJsonLine(f, { a: 1 });
    appendJsonLine(f, { b: 'x\ny' });
    expect(readFileSync(f, 'utf8')).toBe('{"a":1}\n{"b":"x\\ny"}\n');
  });
});
