#!/usr/bin/env node
// `node tooling/scripts/bundle-size.mjs <entry file> [...]`: bundles each entry with esbuild for
// the browser (minified, ESM, tree-shaken, as an app bundler would) and prints the bundle's size
// (bytes, gzip) and each npm package's share of it, from esbuild's metafile. A measurement, never
// a test.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/**
 * @param {string} entry
 * @returns {Promise<{ bytes: number, gzip: number, byPackage: [string, number][] }>}
 */
export async function bundleSize(entry) {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const file = /** @type {import('esbuild').OutputFile} */ (out.outputFiles[0]);
  /** @type {Map<string, number>} */
  const by = new Map();
  for (const o of Object.values(out.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(o.inputs)) {
      const m = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(input);
      const key = m ? /** @type {string} */ (m[1]) : '(own code)';
      by.set(key, (by.get(key) ?? 0) + bytesInOutput);
    }
  }
  return {
    bytes: file.contents.byteLength,
    gzip: gzipSync(file.contents).byteLength,
    byPackage: [...by.entries()].sort((a, b) => b[1] - a[1]),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  for (const entry of process.argv.slice(2)) {
    const r = await bundleSize(entry);
    console.log(
      `${entry}: ${(r.bytes / 1024).toFixed(1)} KiB minified, ${(r.gzip / 1024).toFixed(1)} KiB gzip`,
    );
    for (const [pkg, bytes] of r.byPackage) {
      console.log(
        `  ${pkg.padEnd(28)} ${(bytes / 1024).toFixed(1).padStart(8)} KiB  ${((100 * bytes) / r.bytes).toFixed(1).padStart(5)} %`,
      );
    }
  }
}
