#!/usr/bin/env node
// `pnpm new-package <name> [--description "..."] [--dir <parent>] [--no-changeset]`
//
// Creates packages/<name> (or <parent>/<name>) from tooling/templates/package, wired like every
// other package: tsup build, vitest tests, biome lint, publint, typecheck, a typed error class,
// LICENSE, publish metadata and a first changeset. Then: `pnpm install`,
// `pnpm --filter @atmanrl/<name> build test lint publint` (CONTRIBUTING.md "A whole package").
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_URL, ROOT } from './lib/workspace.mjs';

const TEMPLATE = join(ROOT, 'tooling', 'templates', 'package');
const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/**
 * `my-thing` -> `MyThingError`.
 * @param {string} name
 */
export function errorClassName(name) {
  return `${name
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}Error`;
}

/**
 * The package.json of a new package at `rel` (relative to the root), with the workspace's tool
 * versions (those of tooling/package.json).
 * @param {{ name: string, description: string, rel: string }} o
 */
export function templateManifest({ name, description, rel }) {
  const tooling = JSON.parse(readFileSync(join(ROOT, 'tooling', 'package.json'), 'utf8'));
  const dev = tooling.devDependencies;
  return {
    name: `@atmanrl/${name}`,
    version: '0.0.0',
    description,
    keywords: ['atmanrl'],
    homepage: `${REPO_URL}/tree/main/${rel}#readme`,
    bugs: { url: `${REPO_URL}/issues` },
    repository: { type: 'git', url: `git+${REPO_URL}.git`, directory: rel },
    license: 'MIT',
    type: 'module',
    sideEffects: false,
    exports: {
      '.': { types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' },
    },
    main: './dist/index.js',
    types: './dist/index.d.ts',
    files: ['dist', 'LICENSE'],
    engines: { node: '>=20.19' },
    publishConfig: { access: 'public', provenance: true },
    scripts: {
      build: 'tsup',
      typecheck: 'tsc -p tsconfig.json',
      lint: 'biome check .',
      test: 'vitest run',
      publint: 'publint --strict',
      bench: 'vitest bench --run',
    },
    dependencies: {},
    devDependencies: {
      '@atmanrl/tooling': 'workspace:*',
      '@types/node': dev['@types/node'],
      publint: dev.publint,
      tsup: dev.tsup,
      typescript: dev.typescript,
      vitest: dev.vitest,
    },
  };
}

/**
 * Creates the package. Throws (with what to do instead) on a bad name or an existing folder.
 * @param {{ name: string, description?: string, parent?: string, changesetDir?: string | null }} o
 *   `parent`: the folder to create it in (default packages/); `changesetDir`: where the first
 *   changeset goes (default .changeset/; null for none)
 * @returns {{ dir: string, files: string[], changeset: string | null }}
 */
export function createPackage(o) {
  const { name } = o;
  if (!NAME.test(name)) {
    throw new Error(
      `package name ${JSON.stringify(name)} is not kebab-case (a-z, 0-9, single dashes, starting with a letter); ` +
        'pass the folder name without the @atmanrl/ scope, e.g. `pnpm new-package reward-models`',
    );
  }
  const description = o.description ?? `TODO: one sentence on what @atmanrl/${name} does.`;
  const parent = resolve(o.parent ?? join(ROOT, 'packages'));
  const dir = join(parent, name);
  if (existsSync(dir))
    throw new Error(`${dir} already exists; pick another name or remove it first`);
  const rel = relative(ROOT, dir).split(sep).join('/');
  const subst = {
    __NAME__: name,
    __PACKAGE__: `@atmanrl/${name}`,
    __DESCRIPTION__: description,
    __ERROR__: errorClassName(name),
  };
  /** @param {string} text */
  const fill = (text) => text.replace(/__(NAME|PACKAGE|DESCRIPTION|ERROR)__/g, (m) => subst[m]);
  /** @type {string[]} */
  const files = [];
  /** @param {string} from @param {string} to */
  const copy = (from, to) => {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from)) {
      const src = join(from, entry);
      const dst = join(to, entry);
      if (statSync(src).isDirectory()) copy(src, dst);
      else {
        writeFileSync(dst, fill(readFileSync(src, 'utf8')));
        files.push(dst);
      }
    }
  };
  copy(TEMPLATE, dir);
  writeFileSync(
    join(dir, 'package.json'),
    `${JSON.stringify(templateManifest({ name, description, rel }), null, 2)}\n`,
  );
  copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
  files.push(join(dir, 'package.json'), join(dir, 'LICENSE'));
  let changeset = null;
  const changesetDir = o.changesetDir === undefined ? join(ROOT, '.changeset') : o.changesetDir;
  if (changesetDir !== null) {
    mkdirSync(changesetDir, { recursive: true });
    changeset = join(changesetDir, `${name}-initial.md`);
    writeFileSync(
      changeset,
      `---\n"@atmanrl/${name}": minor\n---\n\nFirst release of \`@atmanrl/${name}\`: ${description}\n`,
    );
  }
  return { dir, files: files.sort(), changeset };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  /** @type {{ name?: string, description?: string, parent?: string, changesetDir?: null }} */
  const o = {};
  for (let i = 0; i < args.length; i++) {
    const a = /** @type {string} */ (args[i]);
    if (a === '--description') o.description = args[++i];
    else if (a === '--dir') o.parent = args[++i];
    else if (a === '--no-changeset') o.changesetDir = null;
    else if (!a.startsWith('-') && o.name === undefined) o.name = a;
    else {
      console.error(`new-package: unexpected argument ${a}`);
      o.name = undefined;
      break;
    }
  }
  if (o.name === undefined) {
    console.error(
      'usage: pnpm new-package <name> [--description "..."] [--dir <parent folder>] [--no-changeset]',
    );
    process.exit(1);
  }
  try {
    const made = createPackage(/** @type {any} */ (o));
    const rel = relative(process.cwd(), made.dir) || '.';
    console.log(`new-package: created ${rel} (@atmanrl/${o.name})`);
    if (made.changeset) console.log(`  changeset: ${relative(process.cwd(), made.changeset)}`);
    console.log(
      [
        'next:',
        '  pnpm install',
        `  pnpm --filter @atmanrl/${o.name} build && pnpm --filter @atmanrl/${o.name} test`,
        `  add "${o.name}" to ALLOWED in tooling/scripts/check-deps.mjs (which @atmanrl packages it may import)`,
        '  and a line to docs/architecture.md "Dependency direction"',
      ].join('\n'),
    );
  } catch (err) {
    console.error(`new-package: ${/** @type {Error} */ (err).message}`);
    process.exit(1);
  }
}
