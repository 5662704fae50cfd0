import { describe, expect, it } from 'vitest';
import { RunsError } from './errors.js';
import { parseJsonl, streamJsonl } from './jsonl.js';
import { MetricsRecordSchema } from './schemas.js';

const line = (step: number, version = 1) =>
  JSON.stringify({ version, step, time: '2026-01-01T00:00:00Z', metrics: { loss: step / 10 } });

describe('parseJsonl', () => {
  it('parses complete lines and ignores (but reports) a torn last line', () => {
    const text = `${line(1)}\n${line(2)}\n{"version":1,"st`;
    const r = parseJsonl(text, MetricsRecordSchema, { file: 'metrics.jsonl' });
    expect(r.records.map((x) => x.step)).toEqual([1, 2]);
    expect(r.tornTail).toBe(true);
    expect(r.consumedBytes).toBe(Buffer.byteLength(`${line(1)}\n${line(2)}\n`));
  });

  it('treats a complete last line without a trailing newline as torn (it may still grow)', () => {
    const r = parseJsonl(`${line(1)}\n${line(2)}`, MetricsRecordSchema, { file: 'm.jsonl' });
    expect(r.records).toHaveLength(1);
    expect(r.tornTail).toBe(true);
  });

  it('rejects invalid JSON in the middle with file:line', () => {
    const text = `${line(1)}\nnot json\n${line(3)}\n`;
    expect(() => parseJsonl(text, MetricsRecordSchema, { file: 'metrics.jsonl' })).toThrow(
      /metrics\.jsonl:2: not valid JSON/,
    );
  });

  it('rejects a schema violation naming the field and line', () => {
    const bad = JSON.stringify({ version: 1, step: -1, time: 't', metrics: {} });
    try {
      parseJsonl(`${line(1)}\n${bad}\n`, MetricsRecordSchema, { file: 'metrics.jsonl' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(RunsError);
      expect((e as RunsError).code).toBe('INVALID_RECORD');
      expect((e as RunsError).line).toBe(2);
      expect((e as Error).message).toMatch(/metrics\.jsonl:2: invalid record: step/);
    }
  });

  it('rejects a line from a newer schema version with an upgrade hint', () => {
    expect(() =>
      parseJsonl(`${line(1, 7)}\n`, MetricsRecordSchema, { file: 'metrics.jsonl' }),
    ).toThrow(/metrics\.jsonl:1: written by run-format version 7.*up to 1.*Upgrade/);
  });

  it('collects problems in tolerant mode and keeps line numbers exact', () => {
    const text = `${line(1)}\n\n{bad\n${line(4, 2)}\n${line(5)}\n`;
    const r = parseJsonl(text, MetricsRecordSchema, { file: 'm', mode: 'tolerant' });
    expect(r.records.map((x) => x.step)).toEqual([1, 5]);
    expect(r.problems.map((p) => [p.line, p.code])).toEqual([
      [3, 'INVALID_JSON'],
      [4, 'NEWER_VERSION'],
    ]);
  });
});

describe('streamJsonl', () => {
  it('yields the same records as parseJsonl across arbitrary chunk boundaries', async () => {
    const text = `${Array.from({ length: 50 }, (_, i) => line(i)).join('\n')}\n${'{"torn'}`;
    const bytes = new TextEncoder().encode(text);
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += 37) yield bytes.slice(i, i + 37);
    }
    let tornAt = -1;
    const out = [];
    for await (const r of streamJsonl(chunks(), MetricsRecordSchema, {
      file: 'm',
      onTornTail: (l) => {
        tornAt = l;
      },
    })) {
      out.push(r.step);
    }
    expect(out).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(tornAt).toBe(51);
  });

  it('reports the right line number for an invalid line in a later chunk', async () => {
    const text = `${line(1)}\n${line(2)}\n{oops}\n`;
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 10));
        c.enqueue(bytes.slice(10));
        c.close();
      },
    });
    const run = async () => {
      for await (const _ of streamJsonl(stream, MetricsRecordSchema, { file: 'x.jsonl' })) {
        // consume
      }
    };
    await expect(run()).rejects.toThrow(/x\.jsonl:3/);
  });
});
