// Assembles tooling/gpu-check/dist/: a self-contained GPU check that needs no node_modules and no
// network on the device machine (issue 11). Contents:
//   check.mjs                 check.mjs + @atmanrl/attention-mask, model, saliency, grpo (from
//                             their sources) + tfjs + @huggingface/*, bundled by esbuild into one file
//   node_modules/webgpu/      Dawn: index.js, package.json, dist/linux-x64/dawn.node.xz (unpacked
//                             by ../gpu-check.sh; the only native file)
//   fixtures/                 attention + tiny-Llama golden fixtures, the Llama-3.2-1B config.json,
//                             the Llama-3 tokenizer
//   node.xz                   this machine's node binary (the device machine has no node)
// Usage: node tooling/gpu-check/bundle.mjs [--no-node]
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const here = import.meta.dirname;
const root = resolve(here, '..', '..');
const out = join(here, 'dist');
const am = join(root, 'packages', 'attention-mask');
const model = join(root, 'packages', 'model');
const saliency = join(root, 'packages', 'saliency');
const grpo = join(root, 'packages', 'grpo');
const fromAm = createRequire(join(am, 'package.json'));
// esbuild comes with tsup (a dev dependency of every package); no extra install.
const esbuild = createRequire(fromAm.resolve('tsup'))('esbuild');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/**
 * node/backend.ts and node/webgpu.ts import optional peers through a variable specifier (so tsup leaves them
 * alone). In the bundle, `@tensorflow/tfjs-backend-webgpu` must be bundled (one tfjs-core) but still
 * evaluated lazily, after `navigator.gpu` exists: a literal dynamic import does both. `webgpu`
 * stays external (native) and is resolved from dist/node_modules at run time.
 */
const literalWebgpuBackend = {
  name: 'literal-webgpu-backend',
  setup(build) {
    build.onLoad({ filter: /attention-mask[\\/]src[\\/]node[\\/]webgpu\.ts$/ }, async (a) => {
      const { readFile } = await import('node:fs/promises');
      const src = await readFile(a.path, 'utf8');
      const from =
        "const specifier: string = '@tensorflow/tfjs-backend-webgpu';\n    mod = (await import(specifier)) as WebgpuBackendModule;";
      if (!src.includes(from)) throw new Error('webgpu.ts changed: update bundle.mjs');
      return {
        contents: src.replace(
          from,
          "mod = (await import('@tensorflow/tfjs-backend-webgpu')) as WebgpuBackendModule;",
        ),
        loader: 'ts',
      };
    });
  },
};

await esbuild.build({
  entryPoints: [join(here, 'check.mjs')],
  outfile: join(out, 'check.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  // tfjs packages mark their registering entry points side-effect free; keep every import.
  ignoreAnnotations: true,
  logLevel: 'warning',
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  // The `./node` entries first: an alias also applies to subpaths of its key.
  alias: {
    '@atmanrl/attention-mask/node': join(am, 'src', 'node', 'index.ts'),
    '@atmanrl/model/node': join(model, 'src', 'node', 'index.ts'),
    '@atmanrl/attention-mask': join(am, 'src', 'index.ts'),
    '@atmanrl/model': join(model, 'src', 'index.ts'),
    '@atmanrl/saliency': join(saliency, 'src', 'index.ts'),
    '@atmanrl/grpo': join(grpo, 'src', 'index.ts'),
  },
  nodePaths: [
    join(am, 'node_modules'),
    join(model, 'node_modules'),
    join(saliency, 'node_modules'),
    join(grpo, 'node_modules'),
  ],
  // Bundled CommonJS (tfjs) calls require() for Node built-ins.
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  plugins: [literalWebgpuBackend],
});

// Dawn: the linux-x64 binary only, xz-compressed (21 MB -> ~5 MB).
const dawn = dirname(fromAm.resolve('webgpu/package.json'));
const dawnOut = join(out, 'node_modules', 'webgpu');
mkdirSync(join(dawnOut, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['package.json', 'index.js', 'LICENSE.md'])
  copyFileSync(join(dawn, f), join(dawnOut, f));
execFileSync('sh', [
  '-c',
  `xz -T2 -6 -c "${join(dawn, 'dist', 'linux-x64', 'dawn.node')}" > "${join(dawnOut, 'dist', 'linux-x64', 'dawn.node.xz')}"`,
]);

// Fixtures.
const fx = join(out, 'fixtures');
mkdirSync(fx, { recursive: true });
copyFileSync(join(am, 'test', 'fixtures', 'attention.json'), join(fx, 'attention.json'));
copyFileSync(join(model, 'test', 'fixtures', 'golden.json'), join(fx, 'golden.json'));
copyFileSync(
  join(root, 'apps', 'trainer', 'test', 'fixtures', 'llama-3.2-1b', 'config.json'),
  join(fx, 'llama-3.2-1b.config.json'),
);
for (const v of ['tied', 'untied']) {
  cpSync(join(model, 'test', 'fixtures', `tiny-llama-${v}`), join(fx, `tiny-llama-${v}`), {
    recursive: true,
  });
}
// The Llama-3 tokenizer (128,256 ids, a devDependency of model) for the full-size AtManRL step.
const llama3 = join(model, 'node_modules', '@lenml', 'tokenizer-llama3', 'models');
mkdirSync(join(fx, 'llama3-tokenizer'), { recursive: true });
for (const f of ['tokenizer.json', 'tokenizer_config.json'])
  copyFileSync(join(llama3, f), join(fx, 'llama3-tokenizer', f));

if (!process.argv.includes('--no-node')) {
  execFileSync('sh', ['-c', `xz -T2 -6 -c "${process.execPath}" > "${join(out, 'node.xz')}"`]);
}

const size = (p) =>
  statSync(p).isDirectory()
    ? readdirSync(p).reduce((s, n) => s + size(join(p, n)), 0)
    : statSync(p).size;
console.log(`gpu-check bundle: ${out} (${(size(out) / 2 ** 20).toFixed(1)} MiB)`);
