// Test and bench helper: compiles the pool's worker entry from src (so tests always run the
// current source, whatever dist holds) into a temporary folder under node_modules/.cache.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'tsup';

const root = resolve(import.meta.dirname, '..');

/** Builds `src/_internal/pool/worker.ts`; returns its URL and a cleanup function. */
export async function buildPoolWorker(): Promise<{ url: URL; cleanup: () => void }> {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  // Under node_modules/ (so bare imports resolve from this package), .mjs (node_modules/ ends the
  // package scope, so "type": "module" does not reach it).
  const outDir = mkdtempSync(join(cache, 'atmanrl-pool-worker-'));
  await build({
    config: false,
    entry: { worker: join(root, 'src/_internal/pool/worker.ts') },
    outDir,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: false,
    sourcemap: false,
    clean: false,
    splitting: false,
    silent: true,
    outExtension: () => ({ js: '.mjs' }),
  });
  return {
    url: pathToFileURL(join(outDir, 'worker.mjs')),
    cleanup: () => rmSync(outDir, { recursive: true, force: true }),
  };
}
