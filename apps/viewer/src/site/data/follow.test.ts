import type { RunSource } from '@atmanrl/runs';
import { MetricsRecordSchema } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import { followJsonlChecked } from './follow.js';

/** A one-file source whose content the test rewrites (Range reads by byte offset). */
function fileSource() {
  let content = '';
  const enc = new TextEncoder();
  const source: RunSource = {
    async readText() {
      return content;
    },
    async readFrom(_p, start) {
      const bytes = enc.encode(content);
      if (start > 0 && start >= bytes.length) return '';
      return new TextDecoder().decode(bytes.slice(start));
    },
    async list() {
      return [];
    },
  };
  return {
    source,
    set(text: string) {
      content = text;
    },
  };
}

const line = (step: number, t = 'x') =>
  `${JSON.stringify({ version: 1, step, time: `2026-01-01T00:00:0${step}.000Z${t}`, metrics: { reward: step } })}\n`;

describe('followJsonlChecked', () => {
  it('returns only new lines while the file grows', async () => {
    const f = fileSource();
    const follow = followJsonlChecked(f.source, 'm.jsonl', MetricsRecordSchema);
    f.set(line(1) + line(2));
    expect((await follow.poll()).records.map((r) => r.step)).toEqual([1, 2]);
    expect(await follow.poll()).toEqual({ records: [], problems: [], truncated: false });
    f.set(line(1) + line(2) + line(3) + '{"torn');
    expect((await follow.poll()).records.map((r) => r.step)).toEqual([3]);
  });
  it('reports a truncation (resume rewound the file), shorter or rewritten past the offset', async () => {
    const f = fileSource();
    const follow = followJsonlChecked(f.source, 'm.jsonl', MetricsRecordSchema);
    f.set(line(1) + line(2) + line(3));
    await follow.poll();
    f.set(line(1));
    expect((await follow.poll()).truncated).toBe(true);

    const g = fileSource();
    const follow2 = followJsonlChecked(g.source, 'm.jsonl', MetricsRecordSchema);
    g.set(line(1) + line(2) + line(3));
    await follow2.poll();
    // Truncated to step 1, then steps 2-4 appended again (different times): longer than before.
    g.set(line(1) + line(2, 'y') + line(3, 'y') + line(4, 'y'));
    const r = await follow2.poll();
    expect(r.truncated).toBe(true);
    expect(r.records).toEqual([]);
  });
  it('reports a file that vanished after being read', async () => {
    const f = fileSource();
    const follow = followJsonlChecked(f.source, 'm.jsonl', MetricsRecordSchema);
    f.set(line(1));
    await follow.poll();
    f.source.readFrom = async () => null;
    expect((await follow.poll()).truncated).toBe(true);
  });
});
