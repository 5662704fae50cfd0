#!/usr/bin/env node
// Fails when library or app source calls a synchronous tensor read (dataSync, arraySync, print).
// These throw under the WebGPU backend in Node (architecture.md, "Compute"); tests may use them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const FORBIDDEN = /\.(dataSync|arraySync|bufferSync)\s*\(|\btf\.print\s*\(|\.print\s*\(\s*\)/;

/** @returns {string[]} offending "file:line: text" entries */
export function findSyncReads(dir) {
  const hits = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (name === 'node_modules' || name === 'dist') continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|tsx|js|mjs)$/.test(name) && !/\.test\.(ts|tsx|js)$/.test(name)) {
        const lines = readFileSync(p, 'utf8').split('\n');
        lines.forEach((line, i) => {
          if (FORBIDDEN.test(line) && !line.includes('sync-read-ok')) {
            hits.push(`${relative(root, p)}:${i + 1}: ${line.trim()}`);
          }
        });
      }
    }
  };
  walk(dir);
  return hits;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const hits = [];
  for (const top of ['packages', 'apps']) {
    const base = join(root, top);
    let entries = [];
    try {
      entries = readdirSync(base);
    } catch {
      continue;
    }
    for (const pkg of entries) {
      const src = join(base, pkg, 'src');
      try {
        statSync(src);
      } catch {
        continue;
      }
      hits.push(...findSyncReads(src));
    }
  }
  if (hits.length > 0) {
    console.error(
      'Synchronous tensor reads are forbidden in library code (they throw on WebGPU in Node).\n' +
        'Use `await t.data()` / `await t.array()` instead:\n  ' +
        hits.join('\n  '),
    );
    process.exit(1);
  }
  console.log('check-no-sync-reads: ok');
}
