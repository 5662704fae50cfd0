#!/usr/bin/env node
// `pnpm release [--dry-run]` (CONTRIBUTING.md "Releases").
//
//   --dry-run  changes no file: `changeset status`, build, pack every published package and check
//              each tarball (LICENSE, metadata, exports, no scripts/devDependencies/workspace:
//              ranges), then `pnpm publish -r --dry-run --no-git-checks`. CI runs this.
//   (none)     the release itself, from a clean checkout of main in CI (provenance needs the CI's
//              OIDC token): `changeset version` (only when changesets are pending), build, test,
//              the same tarball checks, `pnpm publish -r`, `changeset tag`. Commit the version
//              bump and push the tags afterwards.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packAndCheck, ROOT, run } from './lib/workspace.mjs';

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--dry-run');
if (unknown.length > 0) {
  console.error(`release: unknown argument ${unknown.join(' ')}; usage: pnpm release [--dry-run]`);
  process.exit(1);
}
const dryRun = args.includes('--dry-run');

/** @param {string} title */
const step = (title) => console.log(`\nrelease${dryRun ? ' (dry run)' : ''}: ${title}`);

try {
  if (dryRun) {
    step('pending changesets');
    run('pnpm', ['exec', 'changeset', 'status']);
  } else {
    const dirty = run('git', ['status', '--porcelain'], { quiet: true }).trim();
    if (dirty !== '') {
      throw new Error(
        `the working tree has uncommitted changes:\n${dirty}\nrelease from a clean checkout of main`,
      );
    }
    const pending = readdirSync(join(ROOT, '.changeset')).filter(
      (f) => f.endsWith('.md') && f !== 'README.md',
    );
    if (pending.length > 0) {
      step('changeset version');
      run('pnpm', ['exec', 'changeset', 'version']);
    } else {
      step('no pending changesets: versions stay as they are');
    }
  }
  step('build');
  run('pnpm', ['build']);
  if (!dryRun) {
    step('test');
    run('pnpm', ['test']);
  }
  step('pack and check every published package');
  const { packed, problems } = packAndCheck();
  if (problems.length > 0) {
    throw new Error(`tarballs not fit to publish:\n  ${problems.join('\n  ')}`);
  }
  console.log(`  ${packed.length} tarballs: LICENSE, metadata and exports complete`);
  step(dryRun ? 'pnpm publish -r --dry-run --no-git-checks' : 'pnpm publish -r');
  run('pnpm', ['publish', '-r', '--no-git-checks', ...(dryRun ? ['--dry-run'] : [])]);
  if (!dryRun) {
    step('changeset tag');
    run('pnpm', ['exec', 'changeset', 'tag']);
    console.log(
      '\nrelease: published; commit the version bump and push the tags (git push --tags)',
    );
  } else {
    console.log('\nrelease (dry run): passed; nothing was changed or published');
  }
} catch (err) {
  console.error(
    `\nrelease${dryRun ? ' (dry run)' : ''} failed: ${/** @type {Error} */ (err).message}`,
  );
  process.exit(1);
}
