// The "done when" of issue 20, as a new user meets the packages: pack every published package
// (`pnpm pack`), check each tarball (LICENSE, metadata, exports, no scripts/devDependencies),
// install the tarballs with npm into a temporary project outside the workspace, then `require`
// and `import` each entry, bundle the browser entries, and run the CLI's bin (a YAML config with
// --dry-run, and a TRL GRPOConfig YAML).
//
// Separate from the default suite (`pnpm --filter @atmanrl/tooling test:pack`): it needs every
// package built (`pnpm build`) and the npm registry (npm's cache is preferred; ~15 s warm).

import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAndCheck, publishedPackages, ROOT, run } from '../../scripts/lib/workspace.mjs';

/** Every public entry point: each package's exports map, `.` and subpaths. */
const ENTRIES = publishedPackages().flatMap((p) =>
  Object.keys(p.manifest.exports ?? {}).map((sub) =>
    sub === '.' ? p.manifest.name : `${p.manifest.name}/${sub.replace(/^\.\//, '')}`,
  ),
);

/** Browser-safe main entries: they must bundle for the browser without any Node built-in. */
const BROWSER_ENTRIES = [
  '@atmanrl/datasets',
  '@atmanrl/runs',
  '@atmanrl/attention-mask',
  '@atmanrl/model',
];
/** Debian's chromium (`.ci/run` installs it); the in-browser test skips, saying so, without it. */
const CHROMIUM = process.env['ATMANRL_CHROMIUM'] ?? '/usr/bin/chromium';
const NODE_BUILTIN = new RegExp(
  `^(node:.*|(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})(/.*)?)$`,
);

/**
 * The in-browser probe (and its Node twin): attention with a per-key bias on selected query rows,
 * its gradient with respect to the bias, and one forward of a tiny random Llama plus the tiny
 * tokenizer, all on the cpu backend, from the browser-safe entries only. Inputs are closed-form
 * (sines), so the browser and Node runs see identical numbers.
 */
const PROBE = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { attention } from '@atmanrl/attention-mask';
import { createRandomModel, createTinyTokenizer, TINY_VOCAB_SIZE } from '@atmanrl/model';

const wave = (shape, phase) =>
  tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.7 + phase)), shape);

export async function probe() {
  await tf.setBackend('cpu');
  await tf.ready();
  const q = wave([1, 2, 3, 4], 0); // [B,H,Tq,d]
  const k = wave([1, 1, 5, 4], 1); // [B,Hkv,Tk,d]
  const v = wave([1, 1, 5, 4], 2);
  const bias = tf.tensor2d([[0, -1.5, 2, -3, 0.5]]); // [B,Tk]
  const opts = (b) => ({ bias: b, queries: { start: 3, end: 5 } });
  const out = attention(q, k, v, opts(bias)); // [B,H,Tq,d]
  const grad = tf.grad((b) => tf.sum(tf.square(attention(q, k, v, opts(b)))))(bias); // [B,Tk]
  const tok = createTinyTokenizer();
  const model = createRandomModel({ vocab_size: TINY_VOCAB_SIZE, hidden_size: 16,
    intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 }, 7);
  const ids = tok.encode('Hi!');
  const logits = model.forward(tf.tensor2d([ids], undefined, 'int32')); // [1,T,V]
  const last = tf.slice(logits, [0, ids.length - 1, 0], [1, 1, 8]);
  const result = {
    backend: tf.getBackend(),
    out: Array.from(await out.data()),
    grad: Array.from(await grad.data()),
    ids,
    logits: Array.from(await last.data()),
  };
  tf.dispose([q, k, v, bias, out, grad, logits, last]);
  model.dispose();
  return result;
}
`;

/** @type {string} */
let project;
/** @type {ReturnType<typeof packAndCheck>} */
let packed;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'atmanrl-consumer-'));
  const tarballs = join(project, 'tarballs');
  mkdirSync(tarballs);
  packed = packAndCheck({ keep: tarballs });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }),
  );
  run(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...packed.packed.map((p) => p.tarball),
    ],
    { cwd: project, quiet: true },
  );
}, 300_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('packed tarballs installed with npm into a fresh project', () => {
  it('packs every published package with LICENSE and complete metadata', () => {
    expect(packed.problems).toEqual([]);
    expect(packed.packed.map((p) => p.pkg.manifest.name).sort()).toEqual([
      '@atmanrl/attention-mask',
      '@atmanrl/datasets',
      '@atmanrl/eval',
      '@atmanrl/grpo',
      '@atmanrl/model',
      '@atmanrl/runs',
      '@atmanrl/saliency',
      '@atmanrl/trainer',
      '@atmanrl/viewer',
    ]);
    for (const { pkg } of packed.packed) {
      expect(existsSync(join(project, 'node_modules', pkg.manifest.name, 'LICENSE'))).toBe(true);
    }
  });

  it('installs one copy of @tensorflow/tfjs-core (a peer, not a nested pin)', () => {
    /** @type {string[]} */
    const copies = [];
    /** @param {string} nm a node_modules folder */
    const walk = (nm) => {
      for (const entry of readdirSync(nm)) {
        const names = entry.startsWith('@')
          ? readdirSync(join(nm, entry)).map((sub) => `${entry}/${sub}`)
          : [entry];
        for (const name of names) {
          if (name === '@tensorflow/tfjs-core') copies.push(join(nm, name));
          if (existsSync(join(nm, name, 'node_modules'))) walk(join(nm, name, 'node_modules'));
        }
      }
    };
    walk(join(project, 'node_modules'));
    expect(copies).toEqual([join(project, 'node_modules', '@tensorflow', 'tfjs-core')]);
  });

  it('require()s and import()s every entry point with the same exports', () => {
    const script = (kind) =>
      [
        `const names = ${JSON.stringify(ENTRIES)};`,
        kind === 'cjs' ? '(async () => {' : '',
        'const out = {};',
        `for (const n of names) out[n] = Object.keys(${kind === 'cjs' ? 'require(n)' : 'await import(n)'}).sort();`,
        'process.stdout.write(JSON.stringify(out));',
        kind === 'cjs' ? '})();' : '',
      ].join('\n');
    writeFileSync(join(project, 'check.cjs'), script('cjs'));
    writeFileSync(join(project, 'check.mjs'), script('esm'));
    const env = { ...process.env, NODE_NO_WARNINGS: '1' };
    const viaRequire = JSON.parse(run('node', ['check.cjs'], { cwd: project, quiet: true, env }));
    const viaImport = JSON.parse(run('node', ['check.mjs'], { cwd: project, quiet: true, env }));
    expect(Object.keys(viaImport).sort()).toEqual([...ENTRIES].sort());
    for (const entry of ENTRIES) {
      expect(viaImport[entry].length, entry).toBeGreaterThan(0);
      expect(viaRequire[entry], entry).toEqual(viaImport[entry]);
    }
    expect(viaImport['@atmanrl/datasets']).toContain('parseAnswer');
    expect(viaImport['@atmanrl/datasets']).not.toContain('loadGsm8k');
    expect(viaImport['@atmanrl/datasets/node']).toContain('loadGsm8k');
    expect(viaImport['@atmanrl/runs/node']).toEqual(
      expect.arrayContaining(viaImport['@atmanrl/runs']),
    );
    // attention-mask and model: the browser-safe entry has the tensor code, ./node adds the rest.
    expect(viaImport['@atmanrl/attention-mask']).toEqual(
      expect.arrayContaining(['attention', 'matMul', 'suppressionFactors', 'isSoftwareAdapter']),
    );
    expect(viaImport['@atmanrl/attention-mask']).not.toContain('initBackend');
    expect(viaImport['@atmanrl/model']).toEqual(
      expect.arrayContaining([
        'LlamaModel',
        'createRandomModel',
        'loadModelFromSafetensors',
        'HfTokenizer',
        'decodeSafetensors',
        'parseLlamaConfig',
      ]),
    );
    expect(viaImport['@atmanrl/model']).not.toContain('loadModel');
    for (const [entry, extra] of [
      ['@atmanrl/attention-mask', ['initBackend', 'probeWebgpu']],
      [
        '@atmanrl/model',
        [
          'loadModel',
          'saveModel',
          'loadTokenizer',
          'loadLlamaConfig',
          'SafetensorsFile',
          'SafetensorsCheckpoint',
          'writeSafetensors',
          // Hugging Face ids (issue 36): the cache and the Hub client are Node-only.
          'HubError',
          'findCachedSnapshot',
          'hubSettings',
          'parseHubModelId',
          'resolvePretrained',
        ],
      ],
    ]) {
      expect(viaImport[`${entry}/node`]).toEqual([...viaImport[entry], ...extra].sort());
    }
  });

  it('bundles every browser entry for the browser platform without a Node built-in', async () => {
    for (const entry of BROWSER_ENTRIES) {
      const file = join(project, `bundle-${entry.replace(/\W+/g, '-')}.mjs`);
      writeFileSync(file, `export * from '${entry}';\n`);
      const out = await build({
        entryPoints: [file],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        write: false,
        metafile: true,
        logLevel: 'silent',
        absWorkingDir: project,
      });
      expect(out.errors, entry).toEqual([]);
      // Every import resolved to a file in the bundle: none external, none a Node built-in
      // (tfjs-core's own `browser` field maps its optional node-fetch/util/crypto to nothing).
      const imports = Object.values(out.metafile.inputs).flatMap((i) => i.imports);
      const leaks = imports
        .filter(
          (i) =>
            i.external ||
            (NODE_BUILTIN.test(i.original ?? i.path) && !i.path.startsWith('(disabled):')),
        )
        .map((i) => i.original ?? i.path);
      expect(leaks, entry).toEqual([]);
      const code = out.outputFiles[0]?.text ?? '';
      expect(code, entry).not.toMatch(
        /\brequire\(["'](node:)?(fs|path|module|child_process|os)["']\)/,
      );
    }
  });

  it('keeps the Node halves out of the browser: ./node entries do not bundle for it', async () => {
    for (const entry of ['@atmanrl/attention-mask/node', '@atmanrl/model/node']) {
      const file = join(project, `bundle-${entry.replace(/\W+/g, '-')}.mjs`);
      writeFileSync(file, `export * from '${entry}';\n`);
      await expect(
        build({
          entryPoints: [file],
          bundle: true,
          platform: 'browser',
          write: false,
          logLevel: 'silent',
          absWorkingDir: project,
        }),
        entry,
      ).rejects.toThrow(
        /Could not resolve "(node:)?(fs|fs\/promises|path|module|child_process|url)"/,
      );
    }
  });

  it('types resolve for node16 and bundler (attw on every tarball)', () => {
    const attw = join(ROOT, 'node_modules', '.bin', 'attw');
    for (const { tarball, pkg } of packed.packed) {
      // ESM-only by design (engines: node >= 20.19, where require() loads ESM), so the
      // CJSResolvesToESM notice of node16-from-CJS is expected; anything else is a problem.
      const json = run(
        attw,
        [
          tarball,
          '--profile',
          'node16',
          '--format',
          'json',
          '--ignore-rules',
          'cjs-resolves-to-esm',
        ],
        { quiet: true },
      );
      const problems = Object.values(JSON.parse(json).problems ?? {})
        .flat()
        .filter((p) => p.kind !== 'CJSResolvesToESM' && p.resolutionKind !== 'node10');
      expect(problems, pkg.manifest.name).toEqual([]);
    }
  }, 180_000);

  it('runs attention with a per-key bias and a tiny-model forward in headless chromium, as in Node', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      console.log(
        `skipped: no chromium at ${CHROMIUM} (apt-get install chromium, or set ATMANRL_CHROMIUM)`,
      );
      ctx.skip();
    }
    writeFileSync(join(project, 'probe.mjs'), PROBE);
    writeFileSync(
      join(project, 'probe-node.mjs'),
      "import { probe } from './probe.mjs';\nprocess.stdout.write(JSON.stringify(await probe()));\n",
    );
    const env = { ...process.env, NODE_NO_WARNINGS: '1' };
    const inNode = JSON.parse(run('node', ['probe-node.mjs'], { cwd: project, quiet: true, env }));
    const bundle = await build({
      entryPoints: [join(project, 'probe.mjs')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'atmanrlProbe',
      write: false,
      logLevel: 'silent',
      absWorkingDir: project,
    });
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage();
      /** @type {string[]} */
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.setContent('<!doctype html><title>probe</title>');
      await page.addScriptTag({ content: bundle.outputFiles[0]?.text ?? '' });
      const inBrowser = await page.evaluate(() =>
        /** @type {any} */ (globalThis).atmanrlProbe.probe(),
      );
      expect(errors).toEqual([]);
      expect(await page.evaluate(() => typeof process)).toBe('undefined');
      expect(inBrowser.backend).toBe('cpu');
      expect(inBrowser.ids).toEqual(inNode.ids);
      expect(inBrowser.out).toHaveLength(2 * 3 * 4);
      expect(inBrowser.grad).toHaveLength(5);
      expect(inBrowser.logits).toHaveLength(8);
      for (const key of ['out', 'grad', 'logits']) {
        const diff = Math.max(...inBrowser[key].map((x, i) => Math.abs(x - inNode[key][i])));
        expect(diff, key).toBeLessThan(1e-5);
        expect(inBrowser[key].every(Number.isFinite), key).toBe(true);
      }
      // The bias reaches the output: its gradient is non-zero on every key row 3-4 can see.
      expect(inBrowser.grad.every((g) => Math.abs(g) > 1e-6)).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('runs the atmanrl bin', () => {
    const help = run(join(project, 'node_modules', '.bin', 'atmanrl'), ['--help'], {
      cwd: project,
      quiet: true,
    });
    expect(help).toMatch(/usage: atmanrl <command>/);
  });

  it('loads a YAML config through the installed CLI with --dry-run (camelCase and kebab-case keys)', () => {
    writeFileSync(join(project, 'run.yaml'), 'maxSteps: 3\nmax-completion-length: 64\n');
    const out = run(
      join(project, 'node_modules', '.bin', 'atmanrl'),
      ['train', '--config', 'run.yaml', '--dry-run'],
      { cwd: project, quiet: true },
    );
    expect(JSON.parse(out)).toMatchObject({ maxSteps: 3, maxCompletionLength: 64 });
  });

  it("loads a TRL GRPOConfig YAML through the installed CLI with --dry-run (TRL's meanings)", () => {
    // The trainer's own fixture (a TRL user's file, not shipped in the tarball).
    const trl = readFileSync(
      new URL('../../../apps/trainer/test/fixtures/trl-grpo.yaml', import.meta.url),
      'utf8',
    );
    writeFileSync(join(project, 'trl-grpo.yaml'), trl);
    const r = spawnSync(
      join(project, 'node_modules', '.bin', 'atmanrl'),
      ['train', '--config', 'trl-grpo.yaml', '--dry-run'],
      { cwd: project, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    // 16 completions per device batch × 4 micro-batches / 8 per prompt = 8 prompts per step.
    expect(JSON.parse(r.stdout)).toMatchObject({
      promptsPerStep: 8,
      gradientAccumulationSteps: 4,
      numGenerations: 8,
      lossType: 'dapo',
      scaleRewards: 'none',
      topK: 0,
      outcomeWeight: 1,
      saliencyWeight: 0.5,
    });
    expect(r.stderr).toMatch(/ignored: use_vllm/);
    expect(r.stderr).toMatch(/ignored: bf16/);
  });

  it("runs the saliency README's GRPO example: AtManRL for 2 steps from the public exports only", async () => {
    const readme = readFileSync(
      new URL('../../../packages/saliency/README.md', import.meta.url),
      'utf8',
    );
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const example = blocks.find((b) => b.includes('grpoStep'));
    expect(example).toBeDefined();
    const { code } = await transform(example ?? '', { loader: 'ts', format: 'esm' });
    writeFileSync(join(project, 'saliency-grpo.mjs'), code);
    const out = run('node', ['saliency-grpo.mjs'], {
      cwd: project,
      quiet: true,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    const steps = out.split('\n').filter((l) => /^[12] /.test(l));
    expect(steps).toHaveLength(2);
    for (const l of steps) expect(Number.isFinite(Number(l.split(' ')[1]))).toBe(true);
  }, 180_000);
});
