// Crash-safe file primitives: atomic replace (temp + fsync + rename + directory fsync) and
// single-write JSONL appends (O_APPEND; whole lines even with concurrent writers).
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RunsError } from '../errors.js';

/** Test hook: called after the temp file is durable and before the rename. */
export type BeforeRenameHook = (tempPath: string) => void;

/**
 * Replaces `path` atomically with `content`: readers see either the old or the new file, never
 * a mix, and a crash at any point leaves the old file intact.
 */
export function writeFileAtomic(
  path: string,
  content: string | Uint8Array,
  options: { beforeRename?: BeforeRenameHook } = {},
): void {
  const dir = dirname(path);
  const temp = join(
    dir,
    `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`,
  );
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx');
    const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    options.beforeRename?.(temp);
    renameSync(temp, path);
    fsyncDir(dir);
  } catch (e) {
    // Clean up without letting a second failure (e.g. on a full disk) hide the first.
    try {
      if (fd !== undefined) closeSync(fd);
    } catch {}
    try {
      rmSync(temp, { force: true });
    } catch {}
    if (e instanceof RunsError) throw e;
    throw new RunsError('WRITE_FAILED', `could not write ${path}: ${(e as Error).message}`, {
      file: path,
      cause: e,
    });
  }
}

/** Writes `value` as pretty JSON atomically (see {@link writeFileAtomic}). */
export function writeJsonAtomic(
  path: string,
  value: unknown,
  options?: { beforeRename?: BeforeRenameHook },
): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

/** fsyncs a folder so a rename inside it is durable (ignored where the file system refuses). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Appends one JSON record as one line with a single `write` on an `O_APPEND` descriptor, so lines
 * from concurrent writers never interleave.
 */
export function appendJsonLine(path: string, record: unknown): void {
  const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
  let fd: number;
  try {
    fd = openSync(path, 'a');
  } catch (e) {
    throw new RunsError('WRITE_FAILED', `could not open ${path}: ${(e as Error).message}`, {
      file: path,
      cause: e,
    });
  }
  try {
    let written: number;
    try {
      written = writeSync(fd, line);
    } catch (e) {
      throw new RunsError('WRITE_FAILED', `could not append to ${path}: ${(e as Error).message}`, {
        file: path,
        cause: e,
      });
    }
    if (written !== line.length) {
      throw new RunsError(
        'WRITE_FAILED',
        `short append to ${path}: ${written} of ${line.length} bytes`,
        { file: path },
      );
    }
  } finally {
    closeSync(fd);
  }
}
