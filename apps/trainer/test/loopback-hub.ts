// A Hugging Face Hub on 127.0.0.1 for tests (no test reaches the network): the endpoints the
// official client uses — revision info (`/api/models/<id>/revision/<rev>`), the tree listing
// (`/api/models/<id>/tree/<rev>`) and `/<id>/resolve/<rev>/<file>` with ETag, X-Repo-Commit and
// Range — serving files the test gives it, with switches for gated repos, interrupted and
// corrupted transfers, and a log of every request. Also writes a cache the way Python does.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A file of the served repository. */
export interface HubFile {
  path: string;
  content: Buffer;
  /** Stored with LFS (ETag = sha256) rather than in git (ETag = git blob sha1). */
  lfs: boolean;
}

/** Git's blob id: sha1 of `blob <size>\0` + content (what the Hub's ETag is for git files). */
export function gitBlobOid(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

/** sha256 hex of a buffer. */
export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The ETag the Hub gives a file (and the name Python gives its blob). */
export function etagOf(f: HubFile): string {
  return f.lfs ? sha256(f.content) : gitBlobOid(f.content);
}

/** The files of a model folder, `*.safetensors` as LFS files (as on the Hub). */
export function filesOfFolder(dir: string): HubFile[] {
  return readdirSync(dir)
    .filter((name) => !name.endsWith('.md'))
    .map((name) => ({
      path: name,
      content: readFileSync(join(dir, name)),
      lfs: name.endsWith('.safetensors') || name.endsWith('.bin') || name.endsWith('.pth'),
    }));
}

/** One request the server saw. */
export interface HubRequest {
  method: string;
  path: string;
  range: string | null;
  authorization: string | null;
  status: number;
}

/** Options of {@link startLoopbackHub}. */
export interface LoopbackHubOptions {
  repo: string;
  files: HubFile[];
  /** Commit hash of `main` (default: derived from the files). */
  commit?: string;
  /** Gated: no token -> 401, a token not in `allowedTokens` -> 403 (X-Error-Code: GatedRepo). */
  gated?: boolean;
  allowedTokens?: string[];
}

/** A running loopback Hub. */
export interface LoopbackHub {
  /** `http://127.0.0.1:<port>`: pass as HF_ENDPOINT. */
  url: string;
  commit: string;
  requests: HubRequest[];
  /** Body bytes sent per file (all responses but the 1-byte probes together). */
  bytesServed: Map<string, number>;
  /**
   * The next transfer of `file` sends `bytes` bytes and then stalls until `release()` (or the
   * client goes away); the returned promise resolves once those bytes are written.
   */
  stallAfter(file: string, bytes: number): Promise<void>;
  /** Resumes a stalled transfer. */
  release(): void;
  /** The next transfer of `file` closes the connection after `bytes` bytes. */
  dropAfter(file: string, bytes: number): void;
  /** Every transfer of `file` flips the byte at `offset` (headers unchanged). */
  corrupt(file: string, offset: number | null): void;
  /** The server answers Range requests from a byte > 0 with the whole file (200). */
  ignoreRange(on: boolean): void;
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Starts the server on a free port of 127.0.0.1. */
export async function startLoopbackHub(options: LoopbackHubOptions): Promise<LoopbackHub> {
  const files = new Map(options.files.map((f) => [f.path, f]));
  const commit =
    options.commit ??
    createHash('sha1')
      .update(options.files.map((f) => `${f.path}:${etagOf(f)}`).join('\n'))
      .digest('hex');
  const requests: HubRequest[] = [];
  const bytesServed = new Map<string, number>();
  let stall: { file: string; bytes: number; reached: () => void } | null = null;
  let releaseStall: (() => void) | null = null;
  let drop: { file: string; bytes: number } | null = null;
  const corrupted = new Map<string, number>();
  let rangeIgnored = false;
  const sockets = new Set<import('node:net').Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: HubRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null,
      status: 0,
    };
    requests.push(entry);
    const reply = (status: number, body: unknown, headers?: Record<string, string>) => {
      entry.status = status;
      send(res, status, body, headers);
    };
    const repoPath = `/${options.repo}`;
    const revOk = (rev: string) => rev === 'main' || rev === commit;
    const info = new RegExp(`^/api/models${repoPath}/revision/([^/]+)$`).exec(url.pathname);
    const tree = new RegExp(`^/api/models${repoPath}/tree/([^/]+)$`).exec(url.pathname);
    const resolve = new RegExp(`^${repoPath}/resolve/([^/]+)/(.+)$`).exec(url.pathname);
    if (info !== null || tree !== null || resolve !== null) {
      const rev = decodeURIComponent((info ?? tree ?? resolve)![1]!);
      if (!revOk(rev)) {
        return reply(
          404,
          { error: `Invalid rev id: ${rev}` },
          { 'X-Error-Code': 'RevisionNotFound' },
        );
      }
    } else if (url.pathname.startsWith('/api/models/') || url.pathname.includes('/resolve/')) {
      return reply(
        401,
        { error: 'Repository Not Found' },
        { 'X-Error-Code': 'RepositoryNotFound' },
      );
    }
    if (info !== null) {
      return reply(
        200,
        {
          _id: '0123456789abcdef01234567',
          id: options.repo,
          sha: commit,
          private: false,
          gated: options.gated ? 'manual' : false,
          downloads: 0,
          likes: 0,
          lastModified: '2026-01-01T00:00:00.000Z',
          pipeline_tag: 'text-generation',
        },
        { 'X-Repo-Commit': commit },
      );
    }
    if (tree !== null) {
      const recursive = url.searchParams.get('recursive') === 'true';
      const items: unknown[] = [];
      const dirs = new Set<string>();
      for (const f of files.values()) {
        if (!recursive && f.path.includes('/')) {
          dirs.add(f.path.split('/')[0]!);
          continue;
        }
        items.push({
          type: 'file',
          oid: f.lfs
            ? gitBlobOid(Buffer.from(`pointer ${sha256(f.content)}`))
            : gitBlobOid(f.content),
          size: f.content.length,
          path: f.path,
          ...(f.lfs
            ? { lfs: { oid: sha256(f.content), size: f.content.length, pointerSize: 134 } }
            : {}),
        });
      }
      for (const d of dirs)
        items.push({ type: 'directory', oid: '0'.repeat(40), size: 0, path: d });
      return reply(200, items);
    }
    if (resolve === null) return reply(404, { error: 'not found' });
    const file = files.get(decodeURIComponent(resolve[2]!));
    if (file === undefined) {
      return reply(404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
    }
    if (options.gated) {
      const auth = req.headers.authorization;
      const token = auth?.startsWith('Bearer ') ? auth.slice(7) : null;
      if (token === null) {
        return reply(
          401,
          { error: `Access to model ${options.repo} is restricted. You must be authenticated.` },
          { 'X-Error-Code': 'GatedRepo' },
        );
      }
      if (!(options.allowedTokens ?? []).includes(token)) {
        return reply(
          403,
          {
            error: `Access to model ${options.repo} is restricted and you are not in the authorized list.`,
          },
          { 'X-Error-Code': 'GatedRepo' },
        );
      }
    }
    let body = file.content;
    const flip = corrupted.get(file.path);
    if (flip !== undefined) {
      body = Buffer.from(body);
      body[flip] = body[flip]! ^ 0xff;
    }
    const etag = etagOf(file);
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      ETag: `"${etag}"`,
      'X-Repo-Commit': commit,
      'Accept-Ranges': 'bytes',
      ...(file.lfs ? { 'X-Linked-ETag': `"${etag}"`, 'X-Linked-Size': String(body.length) } : {}),
    };
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = body.length - 1;
    let status = 200;
    // ignoreRange: resumed requests (from byte > 0) get the whole file; probes still get ranges.
    if (m !== null && !(rangeIgnored && Number(m[1]) > 0)) {
      start = Number(m[1]);
      end = m[2] === '' ? end : Math.min(end, Number(m[2]));
      if (start > end) {
        entry.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
        return res.end();
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end}/${body.length}`;
    }
    headers['Content-Length'] = String(end - start + 1);
    entry.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return res.end();
    const slice = body.subarray(start, end + 1);
    // The client's `bytes=0-0` probes (size and ETag) are not counted as transfers.
    const count = (n: number) => {
      if (req.headers.range !== 'bytes=0-0')
        bytesServed.set(file.path, (bytesServed.get(file.path) ?? 0) + n);
    };
    // Stalls and drops apply to transfers of real content, not the client's 1-byte probes.
    if (slice.length > 1 && stall !== null && stall.file === file.path) {
      const s = stall;
      stall = null;
      const head = slice.subarray(0, s.bytes);
      count(head.length);
      res.write(head, () => s.reached());
      await new Promise<void>((r) => {
        releaseStall = r;
        res.on('close', () => r());
      });
      releaseStall = null;
      if (res.destroyed) return;
      count(slice.length - head.length);
      return res.end(slice.subarray(s.bytes));
    }
    if (slice.length > 1 && drop !== null && drop.file === file.path) {
      const d = drop;
      drop = null;
      count(d.bytes);
      res.write(slice.subarray(0, d.bytes), () => res.destroy());
      return;
    }
    count(slice.length);
    res.end(slice);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      res.destroy(e as Error);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    commit,
    requests,
    bytesServed,
    stallAfter: (file, bytes) =>
      new Promise<void>((reached) => {
        stall = { file, bytes, reached };
      }),
    release: () => releaseStall?.(),
    dropAfter: (file, bytes) => {
      drop = { file, bytes };
    },
    corrupt: (file, offset) => {
      if (offset === null) corrupted.delete(file);
      else corrupted.set(file, offset);
    },
    ignoreRange: (on) => {
      rangeIgnored = on;
    },
    close: () =>
      new Promise<void>((r) => {
        releaseStall?.();
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * Writes `files` into `cacheDir` exactly as Python's huggingface_hub lays a download out:
 * `models--org--name/blobs/<etag>`, `snapshots/<commit>/<file> -> ../../blobs/<etag>` (relative
 * symlinks), `refs/main` holding the commit hash.
 */
export function writePythonCache(
  cacheDir: string,
  repo: string,
  commit: string,
  files: HubFile[],
): string {
  const folder = join(cacheDir, `models--${repo.replace('/', '--')}`);
  const snapshot = join(folder, 'snapshots', commit);
  mkdirSync(join(folder, 'blobs'), { recursive: true });
  mkdirSync(join(folder, 'refs'), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  for (const f of files) {
    const etag = etagOf(f);
    writeFileSync(join(folder, 'blobs', etag), f.content);
    symlinkSync(join('..', '..', 'blobs', etag), join(snapshot, f.path));
  }
  writeFileSync(join(folder, 'refs', 'main'), commit);
  return snapshot;
}
