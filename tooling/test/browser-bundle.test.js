// The browser-safe main entry of @atmanrl/datasets bundles with esbuild for the browser platform
// (no fs, path, crypto: esbuild refuses to resolve Node built-ins there) and runs in a context
// that has no Node globals; the Node half (`./node`) does not bundle. Runs on the built dist/
// (turbo runs @atmanrl/datasets#build first).
import { join } from 'node:path';
import { createContext, runInContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../scripts/lib/workspace.mjs';

const DATASETS = join(ROOT, 'packages', 'datasets');

/** @param {string} entry @param {import('esbuild').BuildOptions} [extra] */
function bundleForBrowser(entry, extra = {}) {
  return build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'datasets',
    write: false,
    logLevel: 'silent',
    absWorkingDir: DATASETS,
    ...extra,
  });
}

describe('@atmanrl/datasets browser entry', () => {
  it('bundles for the browser and runs without Node globals', async () => {
    const out = await bundleForBrowser(join(DATASETS, 'dist', 'index.js'));
    expect(out.errors).toEqual([]);
    const code = /** @type {import('esbuild').OutputFile} */ (out.outputFiles[0]).text;
    expect(code).not.toMatch(/require\(|\bfrom\s*["'](node:)?(fs|path|crypto)/);
    // A bare context: no process, require, Buffer; only the language's own globals.
    const ctx = createContext({});
    runInContext(`${code}\nglobalThis.datasets = datasets;`, ctx);
    expect(runInContext('typeof process', ctx)).toBe('undefined');
    const api = /** @type {Record<string, any>} */ (ctx).datasets;
    // Hand-computed: "#### 1,234" parses to the canonical 1234.
    expect(api.parseAnswer('so the answer is\n#### 1,234', { kind: 'number' })).toMatchObject({
      answer: '1234',
    });
    expect(api.parseGsm8kSolution('2*3=<<2*3=6>>6 apples\n#### 6')).toEqual({
      reasoning: '2*3=6 apples',
      gold: '6',
    });
    expect(typeof api.loadGsm8k).toBe('undefined');
    expect(typeof api.downloadDataset).toBe('undefined');
  });

  it('keeps the Node half out of the browser: bundling ./node for the browser fails on node: imports', async () => {
    await expect(bundleForBrowser(join(DATASETS, 'dist', 'node.js'))).rejects.toThrow(
      /Could not resolve "(node:)?(crypto|fs|path)"/,
    );
  });
});
