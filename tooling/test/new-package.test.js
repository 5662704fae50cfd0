// `pnpm new-package`: creates a package from the template inside the workspace (a temporary
// folder under tooling/, removed afterwards, so the workspace's tools resolve) and runs the
// checks every package runs: build, typecheck, test, lint, publint, and a pack whose tarball is
// fit to publish.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, readTarball, run, tarballProblems } from '../scripts/lib/workspace.mjs';
import { createPackage, errorClassName } from '../scripts/new-package.mjs';

const BIN = join(ROOT, 'tooling', 'node_modules', '.bin');
const ROOT_BIN = join(ROOT, 'node_modules', '.bin');

describe('errorClassName', () => {
  it('turns kebab-case into a PascalCase error class', () => {
    expect(errorClassName('reward-models')).toBe('RewardModelsError');
    expect(errorClassName('x')).toBe('XError');
  });
});

describe('createPackage', () => {
  /** @type {string} */
  let parent;
  /** @type {ReturnType<typeof createPackage>} */
  let made;

  beforeAll(() => {
    parent = mkdtempSync(join(ROOT, 'tooling', 'tmp-new-package-'));
    made = createPackage({
      name: 'toy-metric',
      description: 'A toy metric made by the template test.',
      parent,
      changesetDir: join(parent, '.changeset'),
    });
  });
  afterAll(() => {
    if (parent) rmSync(parent, { recursive: true, force: true });
  });

  it('fills the template: names, error class, metadata, LICENSE and a changeset', () => {
    const m = JSON.parse(readFileSync(join(made.dir, 'package.json'), 'utf8'));
    expect(m.name).toBe('@atmanrl/toy-metric');
    expect(m.description).toBe('A toy metric made by the template test.');
    expect(m.devDependencies['@atmanrl/tooling']).toBe('workspace:*');
    expect(Object.keys(m.scripts).sort()).toEqual(
      ['bench', 'build', 'lint', 'publint', 'test', 'typecheck'].sort(),
    );
    const errors = readFileSync(join(made.dir, 'src', 'errors.ts'), 'utf8');
    expect(errors).toContain('export class ToyMetricError extends Error');
    expect(errors).not.toMatch(/__[A-Z]+__/);
    expect(readFileSync(join(made.dir, 'LICENSE'), 'utf8')).toBe(
      readFileSync(join(ROOT, 'LICENSE'), 'utf8'),
    );
    expect(readFileSync(/** @type {string} */ (made.changeset), 'utf8')).toMatch(
      /^---\n"@atmanrl\/toy-metric": minor\n---\n/,
    );
  });

  it('refuses a name that is not kebab-case and an existing folder', () => {
    expect(() => createPackage({ name: 'Bad_Name', parent, changesetDir: null })).toThrow(
      /kebab-case/,
    );
    expect(() => createPackage({ name: 'toy-metric', parent, changesetDir: null })).toThrow(
      /already exists/,
    );
  });

  it('builds, typechecks, passes its tests, lint and publint, and packs a publishable tarball', () => {
    const cwd = made.dir;
    // What `pnpm install` would link for the one workspace: dependency (pack rewrites it).
    mkdirSync(join(cwd, 'node_modules', '@atmanrl'), { recursive: true });
    symlinkSync(join(ROOT, 'tooling'), join(cwd, 'node_modules', '@atmanrl', 'tooling'), 'dir');
    run(join(BIN, 'tsup'), [], { cwd, quiet: true });
    expect(existsSync(join(cwd, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(cwd, 'dist', 'index.d.ts'))).toBe(true);
    run(join(BIN, 'tsc'), ['-p', 'tsconfig.json'], { cwd, quiet: true });
    const tests = run(join(BIN, 'vitest'), ['run', '--reporter=default'], { cwd, quiet: true });
    expect(tests).toMatch(/2 passed/);
    run(join(ROOT_BIN, 'biome'), ['check', '.'], { cwd, quiet: true });
    expect(run(join(BIN, 'publint'), ['--strict'], { cwd, quiet: true })).toMatch(/All good/);
    run('pnpm', ['pack', '--pack-destination', parent], { cwd, quiet: true });
    const tar = readTarball(join(parent, 'atmanrl-toy-metric-0.0.0.tgz'));
    expect(tarballProblems(tar)).toEqual([]);
    expect(tar.files).toEqual(
      expect.arrayContaining(['LICENSE', 'dist/index.js', 'dist/index.d.ts']),
    );
  });
});
