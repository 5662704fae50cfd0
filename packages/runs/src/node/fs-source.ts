// A RunSource over the local file system (Node only). Refuses paths that leave the root.
import { createReadStream } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { RunsError } from '../errors.js';
import type { RunSource, SourceEntry } from '../source.js';
import { resolveInside } from './paths.js';

function isMissing(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A {@link RunSource} reading a runs folder on disk; every path is confined to `root`. */
export function fsRunSource(root: string): RunSource {
  const resolve = (p: string) => {
    const abs = resolveInside(root, p);
    if (abs === null) {
      throw new RunsError('NOT_FOUND', `path "${p}" leaves the runs folder ${root}; refused`);
    }
    return abs;
  };
  return {
    async readText(path) {
      try {
        return await readFile(resolve(path), 'utf8');
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
    },
    async readFrom(path, start) {
      let handle: Awaited<ReturnType<typeof open>> | undefined;
      try {
        handle = await open(resolve(path), 'r');
        const { size } = await handle.stat();
        if (start >= size) return '';
        const buf = Buffer.alloc(size - start);
        const { bytesRead } = await handle.read(buf, 0, buf.length, start);
        return buf.subarray(0, bytesRead).toString('utf8');
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      } finally {
        await handle?.close();
      }
    },
    async list(path) {
      try {
        const entries = await readdir(resolve(path), { withFileTypes: true });
        return entries
          .filter((d) => d.isFile() || d.isDirectory())
          .map((d): SourceEntry => ({ name: d.name, type: d.isDirectory() ? 'directory' : 'file' }))
          .sort((a, b) => a.name.localeCompare(b.name));
      } catch (e) {
        if (isMissing(e)) return [];
        throw e;
      }
    },
    async stream(path) {
      const abs = resolve(path);
      try {
        const handle = await open(abs, 'r');
        await handle.close();
      } catch (e) {
        if (isMissing(e)) return null;
        throw e;
      }
      return Readable.toWeb(createReadStream(abs)) as ReadableStream<Uint8Array>;
    },
  };
}
