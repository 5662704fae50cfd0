// Package and runtime versions recorded in run.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGES = [
  '@atmanrl/attention-mask',
  '@atmanrl/model',
  '@atmanrl/saliency',
  '@atmanrl/grpo',
  '@atmanrl/datasets',
  '@atmanrl/runs',
  '@atmanrl/trainer',
];

/** `{ node, '@atmanrl/model': '0.0.0', ... }` for the packages this CLI composes. */
export function packageVersions(): Record<string, string> {
  const out: Record<string, string> = { node: process.versions.node };
  for (const name of PACKAGES) {
    out[name] = 'unknown';
    try {
      let dir = dirname(
        fileURLToPath(name === '@atmanrl/trainer' ? import.meta.url : import.meta.resolve(name)),
      );
      for (let i = 0; i < 6; i++) {
        const p = join(dir, 'package.json');
        if (existsSync(p)) {
          const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
          if (pkg.name === name) {
            out[name] = pkg.version ?? 'unknown';
            break;
          }
        }
        dir = dirname(dir);
      }
    } catch {
      // leave 'unknown'
    }
  }
  return out;
}
