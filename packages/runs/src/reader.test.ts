import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_NODE, runNode, tempDir } from '../test/helpers.js';
import { fsRunSource } from './node/fs-source.js';
import { RunWriter } from './node/writer.js';
import { followJsonl, listRuns, loadRun } from './reader.js';
import { MetricsRecordSchema } from './schemas.js';
import { httpRunSource } from './source.js';

const metric = (step: number) =>
  `${JSON.stringify({ version: 1, step, time: 't', metrics: { loss: step } })}\n`;

function makeRun(runsDir: string, id: string): RunWriter {
  return RunWriter.create({
    runsDir,
    id,
    command: 'train',
    config: {},
    seed: 1,
    backend: { name: 'cpu' },
  });
}

describe('loadRun on partial data', () => {
  it('shows what exists and says what is missing or torn', async () => {
    const runs = tempDir();
    const w = makeRun(runs, 'r1');
    writeFileSync(join(w.dir, 'metrics.jsonl'), `${metric(1)}${metric(2)}{"version":1,"ste`);
    const run = await loadRun(fsRunSource(runs), 'r1');
    expect(run.metrics.map((m) => m.step)).toEqual([1, 2]);
    expect(run.evals).toEqual([]);
    const codes = run.problems.map((p) => `${p.file}:${p.code}`);
    expect(codes).toContain('r1/metrics.jsonl:TORN_LINE');
    expect(codes).toContain('r1/samples.jsonl:NOT_FOUND');
    expect(run.problems.find((p) => p.code === 'TORN_LINE')?.line).toBe(3);
  });

  it('reports a newer-version eval file instead of crashing', async () => {
    const runs = tempDir();
    const w = makeRun(runs, 'r2');
    writeFileSync(join(w.dir, 'eval', 'x.json'), JSON.stringify({ version: 99 }));
    const run = await loadRun(fsRunSource(runs), 'r2');
    expect(run.problems.find((p) => p.code === 'NEWER_VERSION')?.message).toMatch(
      /r2\/eval\/x\.json: written by run-format version 99/,
    );
  });

  it('lists runs, reporting folders with a broken run.json and skipping others', async () => {
    const runs = tempDir();
    makeRun(runs, 'a');
    mkdirSync(join(runs, 'not-a-run'));
    mkdirSync(join(runs, 'broken'));
    writeFileSync(join(runs, 'broken', 'run.json'), '{');
    mkdirSync(join(runs, 'experiment'));
    makeRun(join(runs, 'experiment'), 'arm-1');
    mkdirSync(join(runs, 'x', 'y'), { recursive: true });
    makeRun(join(runs, 'x', 'y'), 'too-deep');
    const list = await listRuns(fsRunSource(runs));
    expect(list.map((r) => r.id).sort()).toEqual(['a', 'broken', 'experiment/arm-1']);
    expect(list.find((r) => r.id === 'broken')?.problem).toMatch(/not valid JSON/);
  });
});

describe('reading while another process appends', () => {
  it('followJsonl sees every line exactly once, in order, never a partial one', async () => {
    const runs = tempDir();
    const w = makeRun(runs, 'live');
    const file = join(w.dir, 'metrics.jsonl');
    writeFileSync(file, '');
    const child = runNode(`
      import { appendJsonLine } from ${JSON.stringify(DIST_NODE)};
      for (let step = 1; step <= 400; step++) {
        appendJsonLine(${JSON.stringify(file)}, { version: 1, step, time: 't', metrics: { loss: step, pad: ${'0'.repeat(1)} } });
        if (step % 50 === 0) await new Promise((r) => setTimeout(r, 5));
      }
    `);
    const follower = followJsonl(fsRunSource(runs), 'live/metrics.jsonl', MetricsRecordSchema);
    const seen: number[] = [];
    let done = false;
    void child.then(() => {
      done = true;
    });
    while (!done) {
      const { records, problems } = await follower.poll();
      expect(problems).toEqual([]);
      seen.push(...records.map((r) => r.step));
      await new Promise((r) => setTimeout(r, 1));
    }
    expect((await child).code).toBe(0);
    seen.push(...(await follower.poll()).records.map((r) => r.step));
    expect(seen).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
  });

  it('followJsonl leaves a torn tail for the next poll', async () => {
    const runs = tempDir();
    const w = makeRun(runs, 't');
    const file = join(w.dir, 'metrics.jsonl');
    const full = metric(2);
    writeFileSync(file, metric(1) + full.slice(0, 10));
    const f = followJsonl(fsRunSource(runs), 't/metrics.jsonl', MetricsRecordSchema);
    expect((await f.poll()).records.map((r) => r.step)).toEqual([1]);
    appendFileSync(file, full.slice(10) + metric(3));
    expect((await f.poll()).records.map((r) => r.step)).toEqual([2, 3]);
  });
});

describe('httpRunSource', () => {
  const runs = tempDir();
  let base = '';
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname).replace(/^\/runs\//, '');
    const src = fsRunSource(runs);
    if (url.searchParams.has('list')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ entries: await src.list(path.replace(/\/$/, '')) }));
      return;
    }
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    const text = range ? await src.readFrom(path, Number(range[1])) : await src.readText(path);
    if (text === null) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.statusCode = range ? 206 : 200;
    res.end(text);
  });
  beforeAll(async () => {
    const w = makeRun(runs, 'h');
    w.logMetrics(1, { loss: 1 });
    w.close(); // release the writer lock so the test can reopen the run
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/runs`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('loads a run, lists runs and follows a file over HTTP', async () => {
    const src = httpRunSource(base);
    expect((await listRuns(src)).map((r) => r.id)).toEqual(['h']);
    const run = await loadRun(src, 'h');
    expect(run.info?.id).toBe('h');
    expect(run.metrics).toHaveLength(1);
    const f = followJsonl(src, 'h/metrics.jsonl', MetricsRecordSchema);
    expect((await f.poll()).records).toHaveLength(1);
    RunWriter.open(join(runs, 'h')).logMetrics(2, { loss: 2 });
    expect((await f.poll()).records.map((r) => r.step)).toEqual([2]);
    expect(await src.readText('h/missing.json')).toBeNull();
  });
});
