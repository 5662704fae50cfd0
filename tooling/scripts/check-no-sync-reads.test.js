import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSyncReads } from './check-no-sync-reads.mjs';

describe('findSyncReads', () => {
  it('flags dataSync/arraySync/print in source and ignores tests', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'a.ts'), 'const x = t.dataSync();\nconst y = await t.data();\n');
    writeFileSync(join(dir, 'sub', 'b.ts'), 'logits.arraySync()\n');
    writeFileSync(join(dir, 'c.test.ts'), 'const x = t.dataSync();\n');
    writeFileSync(join(dir, 'd.ts'), 'tf.print(x)\n');
    const hits = findSyncReads(dir);
    expect(hits).toHaveLength(3);
    expect(hits.some((h) => h.includes('a.ts:1'))).toBe(true);
    expect(hits.some((h) => h.includes('b.ts:1'))).toBe(true);
  });
});
