// Fetching the official dataset files into a local cache: resumable (HTTP Range), size/sha256
// checked, atomic (temp file + rename). Leaves out mirrors and parallel downloads.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from '../errors.js';
import {
  DATASET_MANIFEST,
  type DatasetName,
  type ManifestEntry,
  type ManifestFile,
} from '../manifest.js';
import type { Logger } from '../types.js';
import { extractTar } from './_internal/tar.js';

/** Options of {@link downloadDataset}. */
export interface DownloadOptions {
  /** Cache root; files land in `<cacheDir>/<name>/`. */
  cacheDir: string;
  /** Fetch `<baseUrl>/<file name>` instead of the official URL (a mirror, or a test server). */
  baseUrl?: string;
  /** `fetch` implementation (default `globalThis.fetch`). */
  fetch?: typeof globalThis.fetch;
  /** Extra attempts after a dropped connection, each resuming with a Range request (default 3). */
  retries?: number;
  /** Unpack tar archives after download (default true). */
  extract?: boolean;
  /** Use this manifest entry instead of `DATASET_MANIFEST[name]` (e.g. to pin a hash). */
  manifest?: ManifestEntry;
  logger?: Logger;
}

/** One downloaded file. */
export interface DownloadedFile {
  name: string;
  path: string;
  size: number;
  sha256: string;
  /** True when the file was already complete in the cache. */
  fromCache: boolean;
  /** True when the manifest had a sha256 and it matched. */
  isVerified: boolean;
}

/** Result of {@link downloadDataset}. */
export interface DownloadResult {
  /** `<cacheDir>/<name>`. */
  dir: string;
  /** The folder to pass as `path` to `loadGsm8k` / `loadMmlu`. */
  loadPath: string;
  files: DownloadedFile[];
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Appends (or writes) the response body to `part`; throws on a dropped connection. */
async function writeBody(res: Response, part: string, append: boolean): Promise<void> {
  const fh = await open(part, append ? 'a' : 'w');
  try {
    if (!res.body) return;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
      await fh.write(chunk);
  } finally {
    await fh.close();
  }
}

async function fetchToPart(
  url: string,
  part: string,
  expectedSize: number | null,
  fetchFn: typeof globalThis.fetch,
  retries: number,
  logger?: Logger,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    let have = (await sizeOf(part)) ?? 0;
    if (expectedSize !== null && have > expectedSize) {
      await rm(part, { force: true });
      have = 0;
    }
    if (expectedSize !== null && have === expectedSize) return;
    let res: Response;
    try {
      res = await fetchFn(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
    } catch (err) {
      if (attempt < retries) continue;
      throw new DatasetError(
        'DOWNLOAD_FAILED',
        `request to ${url} failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (res.status === 416 && have > 0) return; // nothing left to fetch; the checks decide
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new DatasetError('DOWNLOAD_FAILED', `HTTP ${res.status} ${res.statusText} for ${url}`);
    }
    const append = res.status === 206 && have > 0;
    if (have > 0 && !append) logger?.warn(`${url}: server ignored the Range request; restarting`);
    else if (append) logger?.info(`${url}: resuming at byte ${have}`);
    try {
      await writeBody(res, part, append);
    } catch (err) {
      const got = (await sizeOf(part)) ?? 0;
      if (attempt < retries) {
        logger?.warn(`${url}: connection dropped after ${got} bytes; resuming`);
        continue;
      }
      throw new DatasetError(
        'DOWNLOAD_FAILED',
        `download of ${url} stopped after ${got} bytes (${(err as Error).message}); the partial file ${part} is kept, call again to resume`,
        { cause: err },
      );
    }
    const got = (await sizeOf(part)) ?? 0;
    if (expectedSize !== null && got < expectedSize) {
      if (attempt < retries) continue;
      throw new DatasetError(
        'DOWNLOAD_FAILED',
        `download of ${url} ended after ${got} of ${expectedSize} bytes; the partial file ${part} is kept, call again to resume`,
      );
    }
    return;
  }
}

async function fetchFile(
  file: ManifestFile,
  dir: string,
  url: string,
  fetchFn: typeof globalThis.fetch,
  retries: number,
  logger?: Logger,
): Promise<DownloadedFile> {
  const dest = join(dir, file.name);
  const existing = await sizeOf(dest);
  if (existing !== null) {
    const sha256 = await sha256Of(dest);
    if (
      (file.size === null || existing === file.size) &&
      (file.sha256 === null || sha256 === file.sha256)
    ) {
      return {
        name: file.name,
        path: dest,
        size: existing,
        sha256,
        fromCache: true,
        isVerified: file.sha256 !== null,
      };
    }
    logger?.warn(`${dest}: cached copy fails the size/hash check; downloading again`);
    await rm(dest, { force: true });
  }
  const part = `${dest}.part`;
  await fetchToPart(url, part, file.size, fetchFn, retries, logger);
  const size = (await sizeOf(part)) ?? 0;
  if (file.size !== null && size !== file.size) {
    await rm(part, { force: true });
    throw new DatasetError(
      'SIZE_MISMATCH',
      `${url}: got ${size} bytes, expected ${file.size}; the partial file was deleted`,
    );
  }
  const sha256 = await sha256Of(part);
  if (file.sha256 !== null && sha256 !== file.sha256) {
    await rm(part, { force: true });
    throw new DatasetError(
      'HASH_MISMATCH',
      `${url}: sha256 ${sha256}, expected ${file.sha256}; the file was deleted. Check baseUrl or the manifest`,
    );
  }
  if (file.sha256 === null)
    logger?.warn(`${file.name}: no sha256 in the manifest; stored unverified (sha256 ${sha256})`);
  await rename(part, dest); // atomic: the final name only ever holds a complete, checked file
  return {
    name: file.name,
    path: dest,
    size,
    sha256,
    fromCache: false,
    isVerified: file.sha256 !== null,
  };
}

/**
 * Downloads a dataset's official files into `<cacheDir>/<name>/` (skipping files already there
 * and valid), checks size and sha256 when the manifest has them, resumes partial downloads
 * with HTTP Range, and unpacks tar archives. Returns the folder to hand to the loader.
 *
 * @example const { loadPath } = await downloadDataset('gsm8k', { cacheDir: '.cache' });
 */
export async function downloadDataset(
  name: DatasetName,
  options: DownloadOptions,
): Promise<DownloadResult> {
  const entry: ManifestEntry | undefined =
    options.manifest ??
    (Object.hasOwn(DATASET_MANIFEST, name) ? DATASET_MANIFEST[name] : undefined);
  if (!entry) {
    throw new DatasetError(
      'UNKNOWN_DATASET',
      `unknown dataset "${name}"; known: ${Object.keys(DATASET_MANIFEST).join(', ')}`,
    );
  }
  const fetchFn = options.fetch ?? globalThis.fetch;
  const retries = options.retries ?? 3;
  const dir = join(options.cacheDir, name);
  await mkdir(dir, { recursive: true });
  const files: DownloadedFile[] = [];
  for (const file of entry.files) {
    const url = options.baseUrl ? `${options.baseUrl.replace(/\/+$/, '')}/${file.name}` : file.url;
    const got = await fetchFile(file, dir, url, fetchFn, retries, options.logger);
    files.push(got);
    if (file.extract === 'tar' && options.extract !== false) {
      // A marker written after a complete extraction makes re-runs cheap and interrupted runs redo it.
      const marker = join(dir, `.${file.name}.${got.sha256.slice(0, 16)}.extracted`);
      if ((await sizeOf(marker)) === null) {
        const extracted = await extractTar(got.path, dir);
        await writeFile(marker, `${extracted.length}\n`);
        options.logger?.info(`${file.name}: extracted ${extracted.length} files into ${dir}`);
      }
    }
  }
  return { dir, loadPath: join(dir, entry.loadPath), files };
}
