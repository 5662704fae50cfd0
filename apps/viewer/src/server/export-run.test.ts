import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { httpRunSource, loadRun } from '@atmanrl/runs';
import { fsRunSource } from '@atmanrl/runs/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_RUNS, writeFixtureRuns } from '../../test/fixtures/make-runs.mjs';
import { SITE_DIR, tempDir } from '../../test/helpers.js';
import { embeddedRunSource } from '../site/data/embedded-source.js';
import { EXPORT_GLOBAL, type ExportData } from './export-data.js';
import { exportRun } from './export-run.js';

describe('exportRun', () => {
  let root: string;
  let runsDir: string;
  let out: string;

  beforeAll(async () => {
    root = tempDir('viewer-export-');
    runsDir = join(root, 'runs');
    writeFixtureRuns(runsDir);
    writeFileSync(
      join(runsDir, FIXTURE_RUNS.a, 'checkpoints', 'step-30', 'model.safetensors'),
      'weights',
    );
    out = join(root, 'out');
    await exportRun({ runsDir, runId: FIXTURE_RUNS.a, outDir: out, staticDir: SITE_DIR });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes a page with the site inlined and the data script before it', () => {
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]*type="module"[^>]*src=/);
    expect(html).not.toMatch(/<link rel="stylesheet"/);
    expect(html.indexOf('<script src="./data.js">')).toBeLessThan(
      html.indexOf('<script type="module">'),
    );
    expect(readdirSync(out).sort()).toEqual(['data.js', 'index.html', 'runs']);
  });

  it('embeds every run file in data.js, leaving checkpoint weights out', () => {
    const sandbox: { window: Record<string, unknown> } = { window: {} };
    runInNewContext(readFileSync(join(out, 'data.js'), 'utf8'), sandbox);
    const data = sandbox.window[EXPORT_GLOBAL] as ExportData;
    expect(data.runId).toBe(FIXTURE_RUNS.a);
    for (const f of [
      'run.json',
      'metrics.jsonl',
      'samples.jsonl',
      'eval/final.json',
      'checkpoints/latest.json',
    ]) {
      expect(data.files[`${FIXTURE_RUNS.a}/${f}`]).toBe(
        readFileSync(join(runsDir, FIXTURE_RUNS.a, f), 'utf8'),
      );
    }
    expect(Object.keys(data.files).some((k) => k.includes('safetensors'))).toBe(false);
    expect(data.dirs['']).toEqual([{ name: FIXTURE_RUNS.a, type: 'directory' }]);
  });

  it('reads back identically through the embedded source and the index.json layout', async () => {
    const sandbox: { window: Record<string, unknown> } = { window: {} };
    runInNewContext(readFileSync(join(out, 'data.js'), 'utf8'), sandbox);
    const embedded = await loadRun(
      embeddedRunSource(sandbox.window[EXPORT_GLOBAL] as ExportData),
      FIXTURE_RUNS.a,
    );
    const original = await loadRun(fsRunSource(runsDir), FIXTURE_RUNS.a);
    expect(embedded).toEqual(original);
    // A static server over the export: httpRunSource with index.json listings.
    const fileFetch = (async (input: RequestInfo | URL) => {
      const path = decodeURIComponent(String(input).replace('http://static.test/', ''));
      try {
        return new Response(readFileSync(join(out, path)));
      } catch {
        return new Response('', { status: 404 });
      }
    }) as typeof fetch;
    const viaStatic = await loadRun(
      httpRunSource('http://static.test/runs/', { fetch: fileFetch, listing: 'index-json' }),
      FIXTURE_RUNS.a,
    );
    expect(viaStatic).toEqual(original);
  });

  it('refuses unknown runs and non-empty destinations', async () => {
    await expect(
      exportRun({ runsDir, runId: 'nope', outDir: join(root, 'x'), staticDir: SITE_DIR }),
    ).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND',
    });
    await expect(
      exportRun({ runsDir, runId: '../runs', outDir: join(root, 'y'), staticDir: SITE_DIR }),
    ).rejects.toMatchObject({
      code: 'RUN_NOT_FOUND',
    });
    mkdirSync(join(root, 'full'));
    writeFileSync(join(root, 'full', 'f'), 'x');
    await expect(
      exportRun({
        runsDir,
        runId: FIXTURE_RUNS.a,
        outDir: join(root, 'full'),
        staticDir: SITE_DIR,
      }),
    ).rejects.toMatchObject({ code: 'OUT_DIR_NOT_EMPTY' });
  });
});
