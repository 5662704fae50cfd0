// Helpers shared by the release script, the dependency-rule checker and the packaging tests:
// which packages the workspace publishes, packing them, and checking what a tarball holds.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root (this file is tooling/scripts/lib/workspace.mjs). */
export const ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** The project URL every published package.json points to (placeholder until the repo is public). */
export const REPO_URL = 'https://github.com/atmanrl/atmanrl-ts';

/** Folders (relative to the root) that hold workspace packages; mirrors pnpm-workspace.yaml. */
export const PACKAGE_PARENTS = ['packages', 'apps'];

/**
 * @typedef {{ dir: string, rel: string, manifest: Record<string, any> }} WorkspacePackage
 *   `dir` absolute, `rel` relative to the root with forward slashes.
 */

/**
 * Every package under packages/ and apps/ (published or private), sorted by folder.
 * @param {string} [root]
 * @returns {WorkspacePackage[]}
 */
export function workspacePackages(root = ROOT) {
  const out = [];
  for (const parent of PACKAGE_PARENTS) {
    const base = join(root, parent);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base).sort()) {
      const file = join(base, name, 'package.json');
      if (!existsSync(file)) continue;
      out.push({
        dir: join(base, name),
        rel: `${parent}/${name}`,
        manifest: JSON.parse(readFileSync(file, 'utf8')),
      });
    }
  }
  return out;
}

/**
 * The packages `pnpm publish -r` would publish (not `private`).
 * @param {string} [root]
 */
export function publishedPackages(root = ROOT) {
  return workspacePackages(root).filter((p) => p.manifest.private !== true);
}

/**
 * Runs a command, inheriting stdio; throws with the command line if it exits non-zero.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, quiet?: boolean }} [opts]
 * @returns {string} stdout when `quiet`, else ''
 */
export function run(cmd, args, opts = {}) {
  const { cwd = ROOT, env = process.env, quiet = false } = opts;
  try {
    const out = execFileSync(cmd, args, {
      cwd,
      env,
      stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    return quiet ? out : '';
  } catch (err) {
    const e = /** @type {{ stdout?: string, stderr?: string, status?: number }} */ (err);
    const detail = quiet ? `\n${e.stdout ?? ''}${e.stderr ?? ''}` : '';
    throw new Error(
      `\`${cmd} ${args.join(' ')}\` (in ${cwd}) exited with ${e.status ?? 'an error'}${detail}`,
    );
  }
}

/**
 * Packs each package with `pnpm pack` (so workspace: ranges are rewritten and the beforePacking
 * hook of /.pnpmfile.mjs applies) into `dest`.
 * @param {WorkspacePackage[]} pkgs
 * @param {string} dest  an existing folder
 * @returns {{ pkg: WorkspacePackage, tarball: string }[]}
 */
export function packAll(pkgs, dest) {
  return pkgs.map((pkg) => {
    const before = new Set(readdirSync(dest));
    run('pnpm', ['pack', '--pack-destination', dest], { cwd: pkg.dir, quiet: true });
    const made = readdirSync(dest).filter((f) => f.endsWith('.tgz') && !before.has(f));
    if (made.length !== 1) {
      throw new Error(`pnpm pack in ${pkg.rel} made ${made.length} tarballs, expected 1`);
    }
    return { pkg, tarball: join(dest, /** @type {string} */ (made[0])) };
  });
}

/**
 * The file list and package.json of a tarball made by `pnpm pack`.
 * @param {string} tarball
 * @returns {{ files: string[], manifest: Record<string, any> }}
 */
export function readTarball(tarball) {
  const files = run('tar', ['-tzf', tarball], { quiet: true })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  const manifest = JSON.parse(
    run('tar', ['-xzOf', tarball, 'package/package.json'], { quiet: true }),
  );
  return { files, manifest };
}

/** Fields every published package.json must carry. */
export const REQUIRED_FIELDS = [
  'name',
  'version',
  'description',
  'keywords',
  'homepage',
  'bugs',
  'repository',
  'license',
  'engines',
  'exports',
  'files',
  'publishConfig',
];

/**
 * Problems with one packed tarball (an empty list when it is fit to publish): LICENSE shipped,
 * complete metadata, no scripts/devDependencies/workspace: ranges, every export has
 * types/import/default and every path it names is in the tarball.
 * @param {{ files: string[], manifest: Record<string, any>, license?: string }} tar  `license`:
 *   the shipped LICENSE text, compared with `rootLicense` when both are given
 * @param {string} [rootLicense] the root LICENSE text
 * @returns {string[]}
 */
export function tarballProblems(tar, rootLicense) {
  const { files, manifest: m } = tar;
  const problems = [];
  const has = new Set(files);
  if (!has.has('LICENSE')) problems.push('no LICENSE file in the tarball');
  for (const f of REQUIRED_FIELDS) if (m[f] === undefined) problems.push(`no "${f}" field`);
  if (m.license !== 'MIT') problems.push(`license is ${JSON.stringify(m.license)}, expected "MIT"`);
  if (!String(m.repository?.url ?? '').includes('github.com/')) {
    problems.push(`repository.url ${JSON.stringify(m.repository?.url)} is not a GitHub URL`);
  }
  if (typeof m.engines?.node !== 'string') problems.push('no engines.node range');
  if (!Array.isArray(m.keywords) || m.keywords.length === 0) problems.push('keywords is empty');
  if (m.scripts !== undefined) problems.push('scripts are published (workspace-only)');
  if (m.devDependencies !== undefined) problems.push('devDependencies are published');
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, range] of Object.entries(m[field] ?? {})) {
      if (String(range).startsWith('workspace:')) problems.push(`${field}.${dep} is ${range}`);
      if (dep === '@atmanrl/tooling') problems.push(`${field} names the private @atmanrl/tooling`);
    }
  }
  for (const [sub, entry] of Object.entries(m.exports ?? {})) {
    if (typeof entry === 'string') {
      if (!has.has(entry.replace(/^\.\//, ''))) problems.push(`exports["${sub}"] ${entry} missing`);
      continue;
    }
    for (const cond of ['types', 'import', 'default']) {
      const path = entry?.[cond];
      if (typeof path !== 'string') problems.push(`exports["${sub}"] has no "${cond}" condition`);
      else if (!has.has(path.replace(/^\.\//, ''))) {
        problems.push(`exports["${sub}"].${cond} ${path} is not in the tarball`);
      }
    }
  }
  if (rootLicense !== undefined && tar.license !== undefined && tar.license !== rootLicense) {
    problems.push('LICENSE differs from the root LICENSE');
  }
  return problems;
}

/**
 * Packs every published package into a temporary folder and checks each tarball.
 * @param {{ keep?: string }} [opts] `keep`: pack into this folder and leave the tarballs there
 * @returns {{ dest: string, packed: { pkg: WorkspacePackage, tarball: string }[], problems: string[] }}
 */
export function packAndCheck(opts = {}) {
  const dest = opts.keep ?? mkdtempSync(join(tmpdir(), 'atmanrl-pack-'));
  const rootLicense = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  const packed = packAll(publishedPackages(), dest);
  const problems = [];
  for (const { pkg, tarball } of packed) {
    const tar = readTarball(tarball);
    const license = tar.files.includes('LICENSE')
      ? run('tar', ['-xzOf', tarball, 'package/LICENSE'], { quiet: true })
      : undefined;
    for (const p of tarballProblems({ ...tar, license }, rootLicense)) {
      problems.push(`${pkg.manifest.name}: ${p}`);
    }
  }
  if (opts.keep === undefined) rmSync(dest, { recursive: true, force: true });
  return { dest, packed, problems };
}
