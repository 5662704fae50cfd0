#!/usr/bin/env node
// Checks the dependency direction of docs/architecture.md ("Dependency direction") on every
// import in every workspace package (src/, test/, bench/) and on every package.json:
//
//     attention-mask  <-  model  <-  saliency, grpo, eval
//     datasets, runs: no tensor code, no dependency on the others
//     trainer -> everything;  viewer -> runs only (the browser bundle never pulls TensorFlow.js)
//
// grpo never imports saliency; no package imports an app; no import reaches into another
// package's folder by a relative path. Part of `pnpm test` (the tooling package's lint);
// `pnpm check-deps` runs it alone. Exits 1 and lists every forbidden import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
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

/** @param {string} dir @returns {string[]} */
function sourceFiles(dir) {
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
      if (name === 'node_modules' || name === 'dist' || name === 'fixtures') continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (SOURCE_EXT.test(name) && !name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const sub of SOURCE_DIRS) walk(join(dir, sub));
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
  for (const p of pkgs) {
    const folder = p.rel.split('/')[1] ?? p.rel;
    const noTensors = NO_TENSORS.includes(folder);
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
      }
    }
    for (const file of sourceFiles(p.dir)) {
      const rel = relative(root, file).split(sep).join('/');
      for (const { spec, line } of importsOf(readFileSync(file, 'utf8'))) {
        const where = `${rel}:${line}`;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (target !== p.dir && !target.startsWith(p.dir + sep)) {
            problems.push(
              `${where}: relative import ${spec} leaves ${p.rel}; import the package by name instead`,
            );
          }
          continue;
        }
        checkSpec(spec, where);
      }
    }
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
