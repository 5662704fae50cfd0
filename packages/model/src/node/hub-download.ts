// One file of a Hub repository into the cache, in Python's layout: `blobs/<etag>` plus the
// symlink `snapshots/<commit>/<file>`. The official client (`@huggingface/hub`) finds the file
// (`fileDownloadInfo`: size and ETag) and streams its bytes (`downloadFile`, whose blob `slice`
// is an HTTP Range request). What its own `downloadFileToCacheDir` lacks is added here: resuming
// `blobs/<etag>.incomplete` (as Python does; also after a dropped connection within one call),
// checking the content against the sha256 / git oid
// the server announced before it is renamed into `blobs/`, progress events, and a lock so two
// processes do not fetch the same blob. It also logs to the console, which a library must not.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, open, rename, rm, stat, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { downloadFile, fileDownloadInfo } from '@huggingface/hub';
import type { Logger } from '../checkpoint.js';
import { HubError } from './hub-errors.js';
import { withFileLock } from './hub-lock.js';

/** What the tree listing says about a file: its size and the hashes its content must have. */
export interface ExpectedFile {
  /** Path in the repository (top level: `model.safetensors`). */
  path: string;
  size: number;
  /** sha256 of the content (the LFS oid), when the file is stored with LFS. */
  sha256?: string;
  /** Git blob oid (sha1 of `blob <size>\0` + content), when the file is stored in git. */
  gitOid?: string;
}

/** Progress of one file's transfer. */
export interface DownloadProgress {
  /** File name in the repository. */
  file: string;
  /** 0-based index of the file among those this call downloads, and their count. */
  fileIndex: number;
  fileCount: number;
  /** Bytes of the file now on disk (including those resumed from an earlier try). */
  bytes: number;
  /** Size of the file. */
  total: number;
  /** Bytes already on disk when this transfer started (a resumed `.incomplete` file). */
  resumedFrom: number;
  /** `start` before the first byte, `data` after each chunk, `done` once checked and in place. */
  phase: 'start' | 'data' | 'done';
}

/** Where and how to fetch one file. */
export interface FileDownloadRequest {
  repo: string;
  commit: string;
  file: ExpectedFile;
  /** `<cache>/models--org--name`. */
  storageFolder: string;
  /** `<cache>/.locks/models--org--name`. */
  lockFolder: string;
  hubUrl: string;
  accessToken: string | undefined;
  fetch: typeof fetch;
  onProgress?: (p: DownloadProgress) => void;
  fileIndex: number;
  fileCount: number;
  logger?: Logger;
  /** Resumed attempts after a dropped connection before giving up (default 3). */
  retries?: number;
}

/** A file in the snapshot folder. */
export interface DownloadedFile {
  /** `snapshots/<commit>/<file>` (a symlink into `blobs/`, or a copy where symlinks fail). */
  path: string;
  sha256: string;
  /** False when the blob was already in the cache (this or another process fetched it). */
  downloaded: boolean;
}

/** The ETag without its weak prefix and quotes, as Python names blobs. */
export function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** A relative symlink `pointer -> blob` (the cache stays valid when moved); a copy if refused. */
async function linkIntoSnapshot(blob: string, pointer: string): Promise<void> {
  await mkdir(dirname(pointer), { recursive: true });
  await rm(pointer, { force: true });
  try {
    await symlink(relative(dirname(pointer), blob), pointer);
  } catch {
    await copyFile(blob, pointer); // Windows without developer mode, as Python does
  }
}

/** sha256 and (for git-stored files) the git blob sha1, fed incrementally. */
class ContentHashes {
  readonly sha256: Hash = createHash('sha256');
  readonly git: Hash | null;
  constructor(size: number, withGit: boolean) {
    this.git = withGit ? createHash('sha1').update(`blob ${size}\0`) : null;
  }
  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.git?.update(chunk);
  }
}

/** Downloads (or resumes) one file into `blobs/`, checks it, and links it into the snapshot. */
export async function downloadFileToSnapshot(req: FileDownloadRequest): Promise<DownloadedFile> {
  const { file, storageFolder } = req;
  const pointer = join(storageFolder, 'snapshots', req.commit, file.path);
  // Already in this commit's snapshot (an earlier call, or Python): nothing to fetch.
  if (await exists(pointer)) {
    return { path: pointer, sha256: await sha256Of(pointer, file), downloaded: false };
  }
  const info = await fileDownloadInfo({
    repo: { type: 'model', name: req.repo },
    path: file.path,
    revision: req.commit,
    hubUrl: req.hubUrl,
    fetch: req.fetch,
    ...(req.accessToken === undefined ? {} : { accessToken: req.accessToken }),
  });
  if (info === null) {
    throw new HubError(
      'NOT_FOUND',
      `${req.repo}@${req.commit}: ${file.path} is listed but the server has no such file`,
    );
  }
  const etag = normalizeEtag(info.etag);
  if (!/^[\w.-]+$/.test(etag)) {
    throw new HubError(
      'DOWNLOAD_FAILED',
      `${file.path}: the server's ETag ${info.etag} is not a file name`,
    );
  }
  const expected: ExpectedFile = {
    ...file,
    // A listing without hashes (some mirrors): the ETag is the sha256 (LFS) or git oid.
    ...(file.sha256 === undefined && file.gitOid === undefined
      ? /^[0-9a-f]{64}$/.test(etag)
        ? { sha256: etag }
        : /^[0-9a-f]{40}$/.test(etag)
          ? { gitOid: etag }
          : {}
      : {}),
  };
  if (expected.sha256 === undefined && expected.gitOid === undefined) {
    throw new HubError(
      'HASH_MISMATCH',
      `${file.path}: the server gave neither a sha256 nor a git oid (ETag ${info.etag}), so the download could not be checked; use the official endpoint or a mirror that serves them`,
    );
  }
  if (info.size !== file.size) {
    throw new HubError(
      'HASH_MISMATCH',
      `${file.path}: the listing says ${file.size} bytes but the server serves ${info.size}; retry later (the revision may have moved) or pass a commit hash as the revision`,
    );
  }
  // Python names a blob by the ETag the Hub gives before any redirect: the sha256 for LFS files,
  // the git oid otherwise — the listing's hashes. (The client follows redirects, so the ETag it
  // sees may be a CDN's; it is used only when the listing has no hash.)
  const blobName = expected.sha256 ?? expected.gitOid ?? etag;
  const blobPath = join(storageFolder, 'blobs', blobName);
  const lockPath = join(req.lockFolder, `${blobName}.atmanrl.lock`);
  return withFileLock(
    lockPath,
    async (): Promise<DownloadedFile> => {
      // Another process (or an earlier run) may have finished this blob.
      if (await exists(blobPath)) {
        await linkIntoSnapshot(blobPath, pointer);
        return { path: pointer, sha256: await sha256Of(blobPath, expected), downloaded: false };
      }
      await mkdir(dirname(blobPath), { recursive: true });
      const sha256 = await fetchBlob(req, expected, info, blobPath);
      await linkIntoSnapshot(blobPath, pointer);
      req.onProgress?.({
        file: file.path,
        fileIndex: req.fileIndex,
        fileCount: req.fileCount,
        bytes: file.size,
        total: file.size,
        resumedFrom: 0,
        phase: 'done',
      });
      return { path: pointer, sha256, downloaded: true };
    },
    {
      onWait: (holder) =>
        req.logger?.info(`${file.path}: another process (${holder}) is downloading it; waiting`),
    },
  );
}

async function sha256Of(path: string, expected: ExpectedFile): Promise<string> {
  if (expected.sha256 !== undefined) return expected.sha256; // blobs are checked when written
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Streams the file into `<blob>.incomplete` (resuming it), checks it, renames it into place. */
async function fetchBlob(
  req: FileDownloadRequest,
  expected: ExpectedFile,
  info: NonNullable<Awaited<ReturnType<typeof fileDownloadInfo>>>,
  blobPath: string,
): Promise<string> {
  const incomplete = `${blobPath}.incomplete`;
  const size = expected.size;
  let have = (await lstat(incomplete).catch(() => null))?.size ?? 0;
  if (have > size) {
    await rm(incomplete, { force: true });
    have = 0;
  }
  const hashes = new ContentHashes(size, expected.sha256 === undefined);
  if (have > 0) {
    // The bytes already on disk enter the hash first; the rest is fetched from byte `have`.
    for await (const chunk of createReadStream(incomplete, { end: have - 1 })) {
      hashes.update(chunk as Buffer);
    }
    req.logger?.info(`${expected.path}: resuming at byte ${have} of ${size}`);
  }
  const progress = (bytes: number, phase: DownloadProgress['phase']) =>
    req.onProgress?.({
      file: expected.path,
      fileIndex: req.fileIndex,
      fileCount: req.fileCount,
      bytes,
      total: size,
      resumedFrom: have,
      phase,
    });
  progress(have, 'start');
  if (have < size) {
    const blob = await downloadFile({
      repo: { type: 'model', name: req.repo },
      path: expected.path,
      revision: req.commit,
      hubUrl: req.hubUrl,
      fetch: req.fetch,
      downloadInfo: info,
      // SIMPLIFICATION: plain HTTP (what the Hub serves when Xet is not asked for) is the path
      // the tests cover, with standard Range resumes; Xet's parallel chunk reconstruction is off.
      xet: false,
      ...(req.accessToken === undefined ? {} : { accessToken: req.accessToken }),
    });
    if (blob === null) {
      throw new HubError('NOT_FOUND', `${req.repo}@${req.commit}: ${expected.path} vanished`);
    }
    const fh = await open(incomplete, have > 0 ? 'a' : 'w');
    let got = have;
    try {
      for (let attempt = 0; ; attempt++) {
        // A slice of the client's blob is a Range request from `got` (the whole file from 0).
        const part = got > 0 ? blob.slice(got) : blob;
        try {
          for await (const chunk of part.stream() as unknown as AsyncIterable<Uint8Array>) {
            if (got + chunk.byteLength > size) {
              throw new Error(`the server sent more than the announced ${size} bytes`);
            }
            await fh.write(chunk);
            hashes.update(chunk);
            got += chunk.byteLength;
            progress(got, 'data');
          }
          if (got === size) break;
          throw new Error('the connection closed early');
        } catch (e) {
          const why = e instanceof Error ? e.message : String(e);
          if (attempt < (req.retries ?? 3) && got < size) {
            req.logger?.warn(`${expected.path}: ${why} after ${got} of ${size} bytes; resuming`);
            continue;
          }
          throw new HubError(
            'DOWNLOAD_FAILED',
            `${req.repo}: ${expected.path} stopped after ${got} of ${size} bytes (${why}); the partial file ${incomplete} is kept: run the command again to resume`,
            { cause: e },
          );
        }
      }
    } finally {
      await fh.close();
    }
  }
  const sha256 = hashes.sha256.digest('hex');
  const gitOid = hashes.git?.digest('hex');
  const bad =
    expected.sha256 !== undefined && sha256 !== expected.sha256
      ? `sha256 ${sha256}, expected ${expected.sha256}`
      : expected.gitOid !== undefined && gitOid !== expected.gitOid
        ? `git oid ${gitOid}, expected ${expected.gitOid}`
        : null;
  if (bad !== null) {
    await rm(incomplete, { force: true });
    throw new HubError(
      'HASH_MISMATCH',
      `${req.repo}@${req.commit}: ${expected.path} arrived corrupted (${bad}); it was deleted and nothing was put in the cache. Run the command again; if it repeats, check HF_ENDPOINT or your proxy`,
    );
  }
  await rename(incomplete, blobPath); // blobs/ only ever holds complete, checked files
  return sha256;
}
