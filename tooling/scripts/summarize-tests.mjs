#!/usr/bin/env node
// Sums the vitest JSON reports in .test-results/ and prints the plain closing line CI reads:
// "N passed, N failed, N skipped".
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const dirs = [join(root, 'tooling', '.test-results')];
for (const top of ['packages', 'apps']) {
  if (!existsSync(join(root, top))) continue;
  for (const pkg of readdirSync(join(root, top))) dirs.push(join(root, top, pkg, '.test-results'));
}
let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of dirs) {
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json')) continue;
    const r = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    passed += r.numPassedTests ?? 0;
    const failedTests = r.numFailedTests ?? 0;
    // a suite that failed to load reports no failed test: count it once
    failed += failedTests > 0 ? failedTests : (r.numFailedTestSuites ?? 0);
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
