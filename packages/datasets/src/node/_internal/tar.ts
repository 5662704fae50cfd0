// Minimal streaming reader for uncompressed tar (ustar, GNU long names, pax path records):
// extracts regular files only, refuses paths that escape the target folder.

import { mkdir, open, rename } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { DatasetError } from '../../errors.js';

const BLOCK = 512;

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/** Extracts every regular file of `tarPath` into `targetDir`; returns their relative paths. */
export async function extractTar(tarPath: string, targetDir: string): Promise<string[]> {
  const fh = await open(tarPath, 'r');
  const written: string[] = [];
  try {
    let pos = 0;
    let nextName: string | null = null;
    const header = Buffer.alloc(BLOCK);
    for (;;) {
      const { bytesRead } = await fh.read(header, 0, BLOCK, pos);
      if (bytesRead < BLOCK || header.every((b) => b === 0)) break;
      const size = Number.parseInt(field(header, 124, 12).trim() || '0', 8);
      const type = String.fromCharCode(header[156] ?? 0);
      const prefix = field(header, 345, 155);
      let name =
        nextName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
      nextName = null;
      const dataStart = pos + BLOCK;
      pos = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      if (!Number.isFinite(size)) {
        throw new DatasetError('BAD_RECORD', 'corrupt tar header (size field)', {
          location: { file: tarPath },
        });
      }
      if (type === 'L' || type === 'x') {
        const body = Buffer.alloc(size);
        await fh.read(body, 0, size, dataStart);
        const text = body.toString('utf8');
        if (type === 'L') nextName = text.replace(/\0.*$/s, '');
        else nextName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text)?.[1] ?? null;
        continue;
      }
      if (type !== '0' && type !== '\0') continue; // directories, links, globals: skipped
      name = name.replace(/^\.\//, '');
      const base = name.split('/').pop() ?? '';
      if (base.startsWith('._') || name.startsWith('__MACOSX/')) continue; // macOS metadata
      const rel = normalize(name);
      if (rel.startsWith('..') || rel.startsWith(sep) || rel.split(sep).includes('..')) {
        throw new DatasetError('BAD_RECORD', `tar entry "${name}" escapes the target folder`, {
          location: { file: tarPath },
        });
      }
      const dest = join(targetDir, rel);
      await mkdir(dirname(dest), { recursive: true });
      const tmp = `${dest}.part`;
      const out = await open(tmp, 'w');
      try {
        const chunk = Buffer.alloc(1 << 20);
        for (let done = 0; done < size; ) {
          const n = Math.min(chunk.length, size - done);
          const r = await fh.read(chunk, 0, n, dataStart + done);
          if (r.bytesRead === 0) {
            throw new DatasetError('BAD_RECORD', `tar truncated inside "${name}"`, {
              location: { file: tarPath },
            });
          }
          await out.write(chunk.subarray(0, r.bytesRead));
          done += r.bytesRead;
        }
      } finally {
        await out.close();
      }
      await rename(tmp, dest);
      written.push(rel);
    }
  } finally {
    await fh.close();
  }
  return written;
}
