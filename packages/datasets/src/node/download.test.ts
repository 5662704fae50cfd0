import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES } from '../../test/paths.js';
import type { ManifestEntry } from '../manifest.js';
import { downloadDataset } from './download.js';
import { loadMmlu } from './mmlu.js';

type Mode = 'ok' | 'truncate' | 'ignore-range' | '404';
const files: Record<string, string> = {
  'train.jsonl': join(FIXTURES, 'gsm8k', 'train.jsonl'),
  'test.jsonl': join(FIXTURES, 'gsm8k', 'test.jsonl'),
  'data.tar': join(FIXTURES, 'mmlu-data.tar'),
};
let server: Server;
let baseUrl = '';
let modes: Mode[] = []; // one per request, 'ok' when exhausted
let log: { path: string; range: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const name = (req.url ?? '/').slice(1);
    log.push({ path: name, range: req.headers.range });
    const mode = modes.shift() ?? 'ok';
    const path = files[name];
    if (mode === '404' || !path) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = await readFile(path);
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && mode !== 'ignore-range') {
      const from = Number(m[1]);
      if (from >= body.length) {
        res.writeHead(416).end();
        return;
      }
      res.writeHead(206, {
        'Content-Length': body.length - from,
        'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}`,
      });
      res.end(body.subarray(from));
      return;
    }
    res.writeHead(200, { 'Content-Length': body.length });
    if (mode === 'truncate') {
      // Promise the whole file, send 40% of it, then drop the connection.
      // The pause lets the client consume the first bytes before the socket dies.
      res.write(body.subarray(0, Math.floor(body.length * 0.4)));
      setTimeout(() => res.destroy(), 200);
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  modes = [];
  log = [];
});

const sha = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');
async function gsmManifest(
  overrides: Partial<Record<'sha256', string>> = {},
): Promise<ManifestEntry> {
  const entries = [];
  for (const name of ['train.jsonl', 'test.jsonl']) {
    const p = files[name] as string;
    entries.push({
      name,
      url: `https://invalid.example/${name}`,
      size: (await stat(p)).size,
      sha256: overrides.sha256 ?? (await sha(p)),
    });
  }
  return { homepage: '', license: 'MIT', loadPath: '.', files: entries };
}
const fresh = () => mkdtemp(join(tmpdir(), 'dl-'));

describe('downloadDataset against a local HTTP server', () => {
  it('downloads, verifies, and serves the second call from the cache without requests', async () => {
    const cacheDir = await fresh();
    const manifest = await gsmManifest();
    const first = await downloadDataset('gsm8k', { cacheDir, baseUrl, manifest });
    expect(first.files.map((f) => [f.name, f.fromCache, f.isVerified])).toEqual([
      ['train.jsonl', false, true],
      ['test.jsonl', false, true],
    ]);
    expect(await readFile(join(first.dir, 'test.jsonl'))).toEqual(
      await readFile(files['test.jsonl'] as string),
    );
    expect(log).toHaveLength(2);
    log = [];
    const second = await downloadDataset('gsm8k', { cacheDir, baseUrl, manifest });
    expect(second.files.every((f) => f.fromCache)).toBe(true);
    expect(log).toHaveLength(0);
  });

  it('a truncated response fails with DOWNLOAD_FAILED, keeps the .part, and the next call completes', async () => {
    const cacheDir = await fresh();
    const manifest = await gsmManifest();
    modes = ['truncate'];
    const err = await downloadDataset('gsm8k', { cacheDir, baseUrl, manifest, retries: 0 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'DOWNLOAD_FAILED' });
    const part = join(cacheDir, 'gsm8k', 'train.jsonl.part');
    const full = (await stat(files['train.jsonl'] as string)).size;
    // How many of the sent bytes reach the client before the reset depends on scheduling.
    const partial = existsSync(part) ? (await stat(part)).size : 0;
    expect(partial).toBeLessThan(full);
    expect(existsSync(join(cacheDir, 'gsm8k', 'train.jsonl'))).toBe(false);
    log = [];
    const res = await downloadDataset('gsm8k', { cacheDir, baseUrl, manifest });
    expect(log[0]).toEqual({
      path: 'train.jsonl',
      range: partial > 0 ? `bytes=${partial}-` : undefined,
    });
    expect(res.files[0]?.sha256).toBe(await sha(files['train.jsonl'] as string));
    expect(existsSync(part)).toBe(false);
  });

  it('resumes a .part file with a Range request and appends the rest', async () => {
    const cacheDir = await fresh();
    const body = await readFile(files['train.jsonl'] as string);
    await mkdir(join(cacheDir, 'gsm8k'), { recursive: true });
    await writeFile(join(cacheDir, 'gsm8k', 'train.jsonl.part'), body.subarray(0, 1000));
    const res = await downloadDataset('gsm8k', {
      cacheDir,
      baseUrl,
      manifest: await gsmManifest(),
    });
    expect(log[0]).toEqual({ path: 'train.jsonl', range: 'bytes=1000-' });
    expect(await readFile(res.files[0]?.path as string)).toEqual(body);
    expect(res.files[0]?.isVerified).toBe(true);
  });

  it('retries a dropped connection within one call when retries allow it', async () => {
    const cacheDir = await fresh();
    modes = ['truncate'];
    const warnings: string[] = [];
    const res = await downloadDataset('gsm8k', {
      cacheDir,
      baseUrl,
      manifest: await gsmManifest(),
      retries: 2,
      logger: { info: () => {}, warn: (m) => warnings.push(m) },
    });
    expect(res.files[0]?.isVerified).toBe(true);
    expect(log.filter((l) => l.path === 'train.jsonl')).toHaveLength(2);
    expect(log[0]?.range).toBeUndefined();
    expect(warnings.some((w) => w.includes('connection dropped'))).toBe(true);
  });

  it('restarts cleanly when the server ignores Range', async () => {
    const cacheDir = await fresh();
    modes = ['truncate', 'ignore-range'];
    const res = await downloadDataset('gsm8k', {
      cacheDir,
      baseUrl,
      manifest: await gsmManifest(),
      retries: 1,
    });
    expect(res.files[0]?.sha256).toBe(await sha(files['train.jsonl'] as string));
  });

  it('a hash mismatch throws HASH_MISMATCH and leaves neither the file nor a .part', async () => {
    const cacheDir = await fresh();
    const manifest = await gsmManifest({ sha256: '0'.repeat(64) });
    await expect(downloadDataset('gsm8k', { cacheDir, baseUrl, manifest })).rejects.toMatchObject({
      code: 'HASH_MISMATCH',
    });
    expect(existsSync(join(cacheDir, 'gsm8k', 'train.jsonl'))).toBe(false);
    expect(existsSync(join(cacheDir, 'gsm8k', 'train.jsonl.part'))).toBe(false);
  });

  it('a 404 throws DOWNLOAD_FAILED naming the status and URL', async () => {
    const cacheDir = await fresh();
    modes = ['404'];
    await expect(
      downloadDataset('gsm8k', { cacheDir, baseUrl, manifest: await gsmManifest() }),
    ).rejects.toThrow(/HTTP 404.*train\.jsonl/);
  });

  it('MMLU: the tarball is downloaded, unpacked, and loadPath loads like the fixture folder', async () => {
    const cacheDir = await fresh();
    const infos: string[] = [];
    const res = await downloadDataset('mmlu', {
      cacheDir,
      baseUrl,
      logger: { info: (m) => infos.push(m), warn: (m) => infos.push(m) },
    });
    expect(res.loadPath).toBe(join(cacheDir, 'mmlu', 'data'));
    expect(res.files[0]?.isVerified).toBe(false); // the official tarball has no pinned hash
    expect(infos.some((m) => m.includes('no sha256'))).toBe(true);
    const got = await loadMmlu({ path: res.loadPath, split: 'test' });
    const want = await loadMmlu({ path: join(FIXTURES, 'mmlu'), split: 'test' });
    expect(got.items).toEqual(want.items);
  });

  it('rejects an unknown dataset name', async () => {
    await expect(
      downloadDataset('imagenet' as 'gsm8k', { cacheDir: await fresh() }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_DATASET',
    });
  });
});
