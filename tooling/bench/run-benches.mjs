#!/usr/bin/env node
// `pnpm bench`: runs every packages/*/bench/*.bench.ts and apps/*/bench/*.bench.ts with tsx-free
// vitest bench, then prints one table of all results. Never cached, never part of `pnpm test`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const only = process.argv[2];
const rows = [];
for (const top of ['packages', 'apps']) {
  const base = join(root, top);
  if (!existsSync(base)) continue;
  for (const pkg of readdirSync(base)) {
    if (only && pkg !== only) continue;
    const benchDir = join(base, pkg, 'bench');
    if (!existsSync(benchDir) || !readdirSync(benchDir).some((f) => f.endsWith('.bench.ts')))
      continue;
    const out = join(root, '.test-results', `bench-${pkg}.json`);
    rmSync(out, { force: true });
    const r = spawnSync('pnpm', ['exec', 'vitest', 'bench', '--run', '--outputJson', out], {
      cwd: join(base, pkg),
      stdio: 'inherit',
    });
    if (r.status !== 0) console.error(`bench failed in ${top}/${pkg}`);
    if (!existsSync(out)) continue;
    const json = JSON.parse(readFileSync(out, 'utf8'));
    for (const file of json.files ?? []) {
      for (const group of file.groups ?? []) {
        for (const b of group.benchmarks ?? []) {
          rows.push({
            pkg,
            group: group.fullName,
            name: b.name,
            meanMs: b.mean,
            hz: b.hz,
            samples: b.sampleCount,
          });
        }
      }
    }
  }
}
if (rows.length > 0) {
  console.log('\n| package | group | benchmark | mean (ms) | ops/s | samples |');
  console.log('|---|---|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.pkg} | ${r.group} | ${r.name} | ${r.meanMs.toFixed(3)} | ${r.hz.toFixed(2)} | ${r.samples} |`,
    );
  }
}
