// Test helpers: temp folders, raw HTTP requests (no URL normalisation), the built site's folder.
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built site (tests run after `build`). */
export const SITE_DIR = resolve(import.meta.dirname, '..', 'dist', 'site');

/** Where e2e screenshots go (gitignored). */
export const OUTPUT_DIR = resolve(import.meta.dirname, '..', 'test-output');

export function tempDir(prefix = 'viewer-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A raw HTTP request: `path` is sent exactly as given (no `..` or `%2e` normalisation). */
export function rawRequest(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  const u = new URL(baseUrl);
  return new Promise((ok, fail) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}
