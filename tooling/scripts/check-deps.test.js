import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkDependencyRules, cyclesOf, importsOf } from './check-deps.mjs';

/** A throw-away workspace: `files` maps a path below the root to its text. */
function workspace(files) {
  const root = mkdtempSync(join(tmpdir(), 'check-deps-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  roots.push(root);
  return root;
}
const roots = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

const manifest = (name, deps = {}) =>
  JSON.stringify({ name, version: '0.0.0', dependencies: deps });
/** The nine packages of this repository, importing nothing. */
const base = {
  'packages/attention-mask/package.json': manifest('@atmanrl/attention-mask'),
  'packages/model/package.json': manifest('@atmanrl/model'),
  'packages/saliency/package.json': manifest('@atmanrl/saliency'),
  'packages/grpo/package.json': manifest('@atmanrl/grpo'),
  'packages/eval/package.json': manifest('@atmanrl/eval'),
  'packages/datasets/package.json': manifest('@atmanrl/datasets'),
  'packages/runs/package.json': manifest('@atmanrl/runs'),
  'apps/trainer/package.json': manifest('@atmanrl/trainer'),
  'apps/viewer/package.json': manifest('@atmanrl/viewer'),
};

describe('importsOf', () => {
  it('finds static, type-only, side-effect, dynamic and re-export imports with their line, not comments or strings', () => {
    const text = [
      "import { a } from '@atmanrl/model';",
      "import type { B } from './b.js';",
      "// import '@atmanrl/saliency'",
      'const s = "import \'@atmanrl/eval\'";',
      "export * from '@atmanrl/runs/node';",
      "const m = await import('@atmanrl/datasets');",
      "import 'side-effect';",
    ].join('\n');
    expect(importsOf(text)).toEqual([
      { spec: '@atmanrl/model', line: 1 },
      { spec: './b.js', line: 2 },
      { spec: '@atmanrl/runs/node', line: 5 },
      { spec: '@atmanrl/datasets', line: 6 },
      { spec: 'side-effect', line: 7 },
    ]);
  });
});

describe('checkDependencyRules', () => {
  it('accepts the allowed directions', () => {
    const root = workspace({
      ...base,
      'packages/model/src/a.ts': "import { x } from '@atmanrl/attention-mask';\n",
      'packages/saliency/src/a.ts': "import '@atmanrl/model';\nimport '@atmanrl/attention-mask';\n",
      'packages/grpo/src/a.ts': "import { CausalLM } from '@atmanrl/model';\n",
      'packages/eval/src/a.ts': "import '@atmanrl/saliency';\nimport '@atmanrl/runs';\n",
      'apps/viewer/src/a.ts': "import { read } from '@atmanrl/runs/node';\n",
      'apps/trainer/src/a.ts': "import '@atmanrl/grpo';\nimport '@atmanrl/viewer';\n",
      'packages/saliency/src/b.ts': "import * as tf from '@tensorflow/tfjs-core';\n",
    });
    expect(checkDependencyRules(root)).toEqual([]);
  });

  it('rejects grpo -> saliency, a reversed edge, a leaf importing a package, importing an app and tensor code in runs', () => {
    const root = workspace({
      ...base,
      'packages/grpo/src/reward.ts': "\nimport { saliencyReward } from '@atmanrl/saliency';\n",
      'packages/attention-mask/src/a.ts': "import type { CausalLM } from '@atmanrl/model';\n",
      'packages/datasets/test/a.test.ts': "import '@atmanrl/runs';\n",
      'packages/eval/src/a.ts': "const v = await import('@atmanrl/viewer');\n",
      'packages/runs/src/a.ts': "import * as tf from '@tensorflow/tfjs-core';\n",
      'apps/viewer/src/a.ts': "import '@atmanrl/model';\n",
    });
    const problems = checkDependencyRules(root);
    expect(problems).toHaveLength(6);
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^packages\/grpo\/src\/reward\.ts:2: .*@atmanrl\/saliency: grpo .*never imports saliency/,
      ),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^packages\/attention-mask\/src\/a\.ts:1: .*attention-mask <- model/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^packages\/datasets\/test\/a\.test\.ts:1: .*depend on no other/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^packages\/eval\/src\/a\.ts:1: .*nothing imports an app/),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^packages\/runs\/src\/a\.ts:1: .*@tensorflow\/tfjs-core: .*no tensor code/,
      ),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^apps\/viewer\/src\/a\.ts:1: .*runs only/),
    );
  });

  it('rejects a forbidden dependency declared in package.json and a relative import into another package', () => {
    const root = workspace({
      ...base,
      'packages/grpo/package.json': manifest('@atmanrl/grpo', {
        '@atmanrl/saliency': 'workspace:^',
      }),
      'packages/model/src/a.ts': "import { x } from '../../saliency/src/index.js';\n",
    });
    const problems = checkDependencyRules(root);
    expect(problems).toEqual([
      expect.stringMatching(
        /^packages\/grpo\/package\.json \(dependencies\): .*@atmanrl\/saliency/,
      ),
      expect.stringMatching(
        /^packages\/model\/src\/a\.ts:1: relative import \.\.\/\.\.\/saliency\/src\/index\.js leaves packages\/model/,
      ),
    ]);
  });

  it('rejects tooling/ reaching into a package folder and an import of a non-entry subpath', () => {
    const root = workspace({
      ...base,
      'packages/model/package.json': JSON.stringify({
        name: '@atmanrl/model',
        exports: { '.': './dist/index.js', './node': './dist/node.js' },
      }),
      'tooling/gpu-check/check.mjs': [
        "import { createRandomModel } from '@atmanrl/model/node';",
        "import { reduce } from '../../apps/trainer/src/_internal/reduced-config.ts';",
        "import { LlamaModel } from '../../packages/model/src/llama-model.ts';",
        "import { helper } from './helper.mjs';",
      ].join('\n'),
      'tooling/gpu-check/helper.mjs': 'export const helper = 1;\n',
      'packages/saliency/src/a.ts': "import { x } from '@atmanrl/model/src/weights.js';\n",
    });
    expect(checkDependencyRules(root)).toEqual([
      expect.stringMatching(
        /^packages\/saliency\/src\/a\.ts:1: .*@atmanrl\/model\/src\/weights\.js, which is not an entry of @atmanrl\/model \(exports: \., \.\/node\)/,
      ),
      expect.stringMatching(
        /^tooling\/gpu-check\/check\.mjs:2: relative import .* reaches into apps\/trainer; import @atmanrl\/trainer by a public entry/,
      ),
      expect.stringMatching(
        /^tooling\/gpu-check\/check\.mjs:3: relative import .* reaches into packages\/model; import @atmanrl\/model/,
      ),
    ]);
  });

  it('rejects an import cycle between files (type imports count) and between packages', () => {
    const root = workspace({
      ...base,
      'packages/model/src/generate.ts': "import type { LlamaModel } from './llama-model.js';\n",
      'packages/model/src/llama-model.ts':
        "import { generate } from './generate.js';\nimport { x } from './leaf.js';\n",
      'packages/model/src/leaf.ts': 'export const x = 1;\n',
      'packages/model/src/self.ts': "export * from './self.js';\n",
      'apps/viewer/package.json': manifest('@atmanrl/viewer', { '@atmanrl/runs': '1' }),
      'apps/trainer/src/a.ts': "import '@atmanrl/viewer';\n",
      'apps/viewer/src/a.ts': "import '@atmanrl/trainer';\n",
    });
    const problems = checkDependencyRules(root);
    expect(problems).toContainEqual(
      'packages/model/src/generate.ts <-> packages/model/src/llama-model.ts: import cycle; move what both need into a third file, or pass it in (a type can describe the other side)',
    );
    expect(problems).toContainEqual(
      expect.stringMatching(/^packages\/model\/src\/self\.ts: import cycle/),
    );
    expect(problems).toContainEqual(
      '@atmanrl/trainer <-> @atmanrl/viewer: package import cycle (src/ imports and dependencies)',
    );
    expect(problems.filter((p) => p.includes('leaf'))).toEqual([]);
  });

  it('cyclesOf finds each strongly connected component once', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(cyclesOf(g)).toEqual([['a', 'b', 'c'], ['e']]);
  });

  it('passes on this repository', () => {
    expect(checkDependencyRules()).toEqual([]);
  });
});
