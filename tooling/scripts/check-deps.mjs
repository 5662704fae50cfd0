#!/usr/bin/env node
// Checks the dependency direction of docs/architecture.md ("Dependency direction") on every
// import in every workspace package (src/, test/, bench/) and on every package.json:
//
//     attention-mask  <-  model  <-  saliency, grpo, eval
//     datasets, runs: no tensor code, no dependency on the others
//     trainer -> everything;  viewer -> runs only (the browser bundle never pulls TensorFlow.js)
//
// grpo never imports saliency; no package imports an app; no import reaches into another
// package's folder by a relative path, from tooling/ either (the GPU check and benchmarks use
// the packages' public entries); an `@atmanrl/x/sub` import names one of x's `exports`; and no
// import cycle exists, between files or between packages. Part of `pnpm test` (the tooling
// package's lint); `pnpm check-deps` runs it alone. Exits 1 and lists every problem.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { ROOT, workspacePackages } from './lib/workspace.mjs';

/**
 * The @atmanrl packages each package may import (by folder name). `'*'`: every package and app.
 * A package missing here may import any library package under packages/, never an app.
 * @type {Record<string, readonly string[] | '*'>}
 */
export const ALLOWED = {
  'attention-mask': [],
  datasets: [],
  runs: [],
  model: ['attention-mask'],
  saliency: ['attention-mask', 'model'],
  grpo: ['attention-mask', 'model'],
  eval: ['attention-mask', 'model', 'saliency', 'datasets', 'runs'],
  viewer: ['runs'],
  trainer: '*',
};

/** Packages that hold no tensor code: they may not import TensorFlow.js at all. */
export const NO_TENSORS = ['datasets', 'runs', 'viewer'];

/** Why a rule exists, quoted in each message. */
const REASONS = {
  grpo: 'grpo takes reward functions and never imports saliency; the trainer plugs the saliency reward in',
  leaf: 'datasets and runs depend on no other @atmanrl package',
  viewer: 'the viewer depends on @atmanrl/runs only',
  app: 'nothing imports an app',
  order: 'the order is attention-mask <- model <- saliency, grpo, eval',
  tensors:
    'datasets, runs and the viewer hold no tensor code (the browser bundle never pulls TensorFlow.js)',
};

const SOURCE_DIRS = ['src', 'test', 'bench'];
const SOURCE_EXT = /\.(?:[cm]?[jt]s|tsx|jsx)$/;

/**
 * Import cycles that exist today and are being removed (each `a <-> b`, paths from the root):
 * reported as a note, not a failure, until the entry is deleted. Keep this empty.
 * @type {readonly string[]}
 */
export const KNOWN_CYCLES = [];

/** @param {string} dir @param {readonly string[]} [subs] @returns {string[]} */
function sourceFiles(dir, subs = SOURCE_DIRS) {
  /** @type {string[]} */
  const out = [];
  /** @param {string} d */
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      if (['node_modules', 'dist', 'fixtures', 'templates'].includes(name)) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (SOURCE_EXT.test(name) && !name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const sub of subs) walk(sub === '.' ? dir : join(dir, sub));
  return out;
}

/**
 * The file a relative import names (`./a.js` may be `a.ts`), or null when none exists.
 * @param {string} from importing file @param {string} spec
 */
function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.[cm]?js$/, '');
  for (const c of [
    base,
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    `${base}.ts`,
    join(base, 'index.ts'),
    join(base, 'index.js'),
  ]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

/**
 * The cycles of a directed graph (Tarjan's strongly connected components of size > 1, or a node
 * importing itself), each as its sorted node list.
 * @param {Map<string, string[]>} graph
 * @returns {string[][]}
 */
export function cyclesOf(graph) {
  let next = 0;
  /** @type {Map<string, number>} */ const index = new Map();
  /** @type {Map<string, number>} */ const low = new Map();
  /** @type {string[]} */ const stack = [];
  const onStack = new Set();
  /** @type {string[][]} */ const out = [];
  /** @param {string} v */
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(
          v,
          Math.min(/** @type {number} */ (low.get(v)), /** @type {number} */ (low.get(w))),
        );
      } else if (onStack.has(w)) {
        low.set(
          v,
          Math.min(/** @type {number} */ (low.get(v)), /** @type {number} */ (index.get(w))),
        );
      }
    }
    if (low.get(v) === index.get(v)) {
      /** @type {string[]} */ const scc = [];
      let w;
      do {
        w = /** @type {string} */ (stack.pop());
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/**
 * The module specifiers a file imports (static and dynamic imports, re-exports, require),
 * without those in comments or strings, with their 1-based line.
 * @param {string} text
 * @returns {{ spec: string, line: number }[]}
 */
export function importsOf(text) {
  const info = ts.preProcessFile(text, true, true);
  return info.importedFiles.map((f) => ({
    spec: f.fileName,
    line: text.slice(0, f.pos).split('\n').length,
  }));
}

/**
 * Why `from` (a folder name) may not depend on `to` (a workspace package), or null.
 * @param {string} from
 * @param {{ folder: string, isApp: boolean }} to
 * @returns {string | null}
 */
export function forbiddenReason(from, to) {
  if (from === to.folder) return null;
  const allowed = ALLOWED[from];
  if (allowed === '*') return null;
  if (to.isApp) return REASONS.app;
  if (allowed === undefined) return null;
  if (allowed.includes(to.folder)) return null;
  if (from === 'grpo' && to.folder === 'saliency') return REASONS.grpo;
  if (from === 'datasets' || from === 'runs') return REASONS.leaf;
  if (from === 'viewer') return REASONS.viewer;
  return REASONS.order;
}

/**
 * Every forbidden dependency in the workspace at `root`.
 * @param {string} [root]
 * @returns {string[]} one message per violation, `path:line: ...`
 */
export function checkDependencyRules(root = ROOT) {
  const pkgs = workspacePackages(root);
  /** @type {Map<string, { folder: string, isApp: boolean, rel: string }>} */
  const byName = new Map();
  for (const p of pkgs) {
    const folder = p.rel.split('/')[1] ?? p.rel;
    byName.set(p.manifest.name, { folder, isApp: p.rel.startsWith('apps/'), rel: p.rel });
  }
  /** @type {string[]} */
  const problems = [];
  /** @type {Map<string, string[]>} file -> files it imports (relative imports), for cycles */
  const fileGraph = new Map();
  /** @type {Map<string, string[]>} package -> packages it imports by name (runtime), for cycles */
  const packageGraph = new Map();
  /** @type {Map<string, Set<string> | null>} package name -> its `exports` subpaths */
  const exportsOf = new Map();
  for (const p of pkgs) {
    const ex = p.manifest.exports;
    exportsOf.set(
      p.manifest.name,
      ex === undefined ? null : new Set(typeof ex === 'string' ? ['.'] : Object.keys(ex)),
    );
  }
  /** @param {string} spec @param {string} where @param {string} who */
  const checkSubpath = (spec, where, who) => {
    const parts = spec.split('/');
    if (!spec.startsWith('@atmanrl/') || parts.length < 3) return;
    const name = parts.slice(0, 2).join('/');
    const entries = exportsOf.get(name);
    const sub = `./${parts.slice(2).join('/')}`;
    if (entries === undefined || entries === null || entries.has(sub)) return;
    problems.push(
      `${where}: ${who} imports ${spec}, which is not an entry of ${name} (exports: ${[...entries].join(', ')}); use a public entry`,
    );
  };
  /** @param {string} file @param {string} spec */
  const addFileEdge = (file, spec) => {
    const target = resolveRelative(file, spec);
    if (target === null) return;
    const edges = fileGraph.get(file) ?? [];
    edges.push(target);
    fileGraph.set(file, edges);
  };
  for (const p of pkgs) {
    const folder = p.rel.split('/')[1] ?? p.rel;
    const noTensors = NO_TENSORS.includes(folder);
    /** @type {Set<string>} */
    const usesAtRuntime = new Set();
    /** @param {string} spec @param {string} where */
    const checkSpec = (spec, where) => {
      const name = spec.startsWith('@')
        ? spec.split('/').slice(0, 2).join('/')
        : spec.split('/')[0];
      const target = name === undefined ? undefined : byName.get(name);
      if (target !== undefined) {
        const why = forbiddenReason(folder, target);
        if (why !== null) problems.push(`${where}: ${p.manifest.name} imports ${spec}: ${why}`);
      }
      if (noTensors && spec.startsWith('@tensorflow/')) {
        problems.push(`${where}: ${p.manifest.name} imports ${spec}: ${REASONS.tensors}`);
      }
    };
    for (const field of [
      'dependencies',
      'peerDependencies',
      'optionalDependencies',
      'devDependencies',
    ]) {
      for (const dep of Object.keys(p.manifest[field] ?? {})) {
        checkSpec(dep, `${p.rel}/package.json (${field})`);
        if (field !== 'devDependencies' && byName.has(dep) && dep !== p.manifest.name)
          usesAtRuntime.add(dep);
      }
    }
    for (const file of sourceFiles(p.dir)) {
      const rel = relative(root, file).split(sep).join('/');
      const inSrc = rel.startsWith(`${p.rel}/src/`);
      for (const { spec, line } of importsOf(readFileSync(file, 'utf8'))) {
        const where = `${rel}:${line}`;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (target !== p.dir && !target.startsWith(p.dir + sep)) {
            problems.push(
              `${where}: relative import ${spec} leaves ${p.rel}; import the package by name instead`,
            );
          }
          addFileEdge(file, spec);
          continue;
        }
        checkSpec(spec, where);
        checkSubpath(spec, where, p.manifest.name);
        const name = spec.split('/').slice(0, 2).join('/');
        if (inSrc && byName.has(name) && name !== p.manifest.name) usesAtRuntime.add(name);
      }
    }
    packageGraph.set(p.manifest.name, [...usesAtRuntime]);
  }
  // tooling/ (shared config, scripts, the GPU check, benchmarks): above the packages for imports,
  // so it reaches them by their public entries only, never by a path into their folders.
  const tooling = join(root, 'tooling');
  const folders = pkgs.map((p) => p.dir);
  for (const file of existsSync(tooling) ? sourceFiles(tooling, ['.']) : []) {
    const rel = relative(root, file).split(sep).join('/');
    for (const { spec, line } of importsOf(readFileSync(file, 'utf8'))) {
      const where = `${rel}:${line}`;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        const into = folders.find((d) => target === d || target.startsWith(d + sep));
        if (into !== undefined) {
          const pkg = pkgs.find((p) => p.dir === into);
          problems.push(
            `${where}: relative import ${spec} reaches into ${pkg?.rel}; import ${pkg?.manifest.name} by a public entry instead`,
          );
        }
        addFileEdge(file, spec);
        continue;
      }
      checkSubpath(spec, where, 'tooling');
    }
  }
  const known = new Set(KNOWN_CYCLES);
  for (const scc of cyclesOf(fileGraph)) {
    const text = scc.map((f) => relative(root, f).split(sep).join('/')).join(' <-> ');
    if (!known.has(text)) {
      problems.push(
        `${text}: import cycle; move what both need into a third file, or pass it in (a type can describe the other side)`,
      );
    }
  }
  for (const scc of cyclesOf(packageGraph)) {
    problems.push(`${scc.join(' <-> ')}: package import cycle (src/ imports and dependencies)`);
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const problems = checkDependencyRules();
  if (problems.length > 0) {
    console.error(
      `check-deps: ${problems.length} forbidden import(s) (docs/architecture.md "Dependency direction"):`,
    );
    for (const p of problems) console.error(`  ${p}`);
    console.error(
      'Move the code to a package both sides may use, pass it in as a function, or, for a new ' +
        'package, add its row to ALLOWED in tooling/scripts/check-deps.mjs (CONTRIBUTING.md).',
    );
    process.exit(1);
  }
  console.log('check-deps: every import follows docs/architecture.md "Dependency direction"');
}
