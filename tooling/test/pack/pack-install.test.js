// The "done when" of issue 20, as a new user meets the packages: pack every published package
// (`pnpm pack`), check each tarball (LICENSE, metadata, exports, no scripts/devDependencies),
// install the tarballs with npm into a temporary project outside the workspace, then `require`
// and `import` each entry, bundle the browser entries, and run the CLI's bin (a YAML config with
// --dry-run; the TRL-style keys of issue 20 item 7 belong in the same test once they exist).
//
// Separate from the default suite (`pnpm --filter @atmanrl/tooling test:pack`): it needs every
// package built (`pnpm build`) and the npm registry (npm's cache is preferred; ~15 s warm).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAndCheck, publishedPackages, run } from '../../scripts/lib/workspace.mjs';

/** Every public entry point: each package's exports map, `.` and subpaths. */
const ENTRIES = publishedPackages().flatMap((p) =>
  Object.keys(p.manifest.exports ?? {}).map((sub) =>
    sub === '.' ? p.manifest.name : `${p.manifest.name}/${sub.replace(/^\.\//, '')}`,
  ),
);

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
  });

  it('bundles the browser entries (@atmanrl/datasets, @atmanrl/runs) for the browser platform', async () => {
    for (const entry of ['@atmanrl/datasets', '@atmanrl/runs']) {
      const file = join(project, `bundle-${entry.replace(/\W+/g, '-')}.mjs`);
      writeFileSync(file, `export * from '${entry}';\n`);
      const out = await build({
        entryPoints: [file],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        write: false,
        logLevel: 'silent',
        absWorkingDir: project,
      });
      expect(out.errors, entry).toEqual([]);
    }
  });

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
