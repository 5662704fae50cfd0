// Test helpers: temp folders and child processes that use the built Node entry.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Absolute path of the built Node entry (tests run after `build`). */
export const DIST_NODE = resolve(import.meta.dirname, '..', 'dist', 'node.js');

export function tempDir(prefix = 'runs-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs an ES module snippet in a child Node process; resolves with its exit code and stderr. */
export function runNode(code: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('error', rej);
    child.on('exit', (c) => res({ code: c, stderr }));
  });
}
