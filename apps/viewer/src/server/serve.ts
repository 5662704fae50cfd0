// The read-only HTTP server behind `atmanrl view`: serves the built site at `/` and the runs
// folder under `/runs/` (files with Range support, `?list` directory listings). GET/HEAD only,
// loopback by default, every path confined to its root (symlinks included).
import { constants } from 'node:fs';
import { type FileHandle, open, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { resolveInside } from '@atmanrl/runs/node';
import { ViewerError } from '../errors.js';
import { contentTypeFor } from './content-type.js';
import { type Logger, silentLogger } from './logger.js';
import { parseRange } from './range.js';
import { decodeRequestPath } from './request-path.js';
import { defaultStaticDir } from './site-dir.js';

/** URL prefix under which the runs folder is served. */
export const RUNS_PREFIX = 'runs';

/** Options of {@link startViewerServer}. */
export interface ViewerServerOptions {
  /** Folder holding run folders (each with a `run.json`). Must exist. */
  runsDir: string;
  /** TCP port; `0` (default) picks a free one. The chosen port is in the returned `url`. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1` (loopback only); `0.0.0.0` exposes the runs to the network. */
  host?: string;
  /** Folder of the built site; default the `dist/site` shipped with this package. */
  staticDir?: string;
  /** Receives request errors; default silent. */
  logger?: Logger;
}

/** A running viewer server. */
export interface ViewerServer {
  /** Base URL of the site, e.g. `http://127.0.0.1:41234/` (open it in a browser). */
  url: string;
  /** Port actually bound. */
  port: number;
  /** Stops accepting connections, drops open ones, and resolves once closed. */
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
} as const;

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function hostForUrl(host: string): string {
  if (isWildcard(host)) return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
  head = false,
): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(head ? undefined : body);
}

/** True when `child` (absolute, real) is `root` or lies inside it. */
function isInside(root: string, child: string): boolean {
  const rel = relative(root, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

type Resolved =
  | { kind: 'file'; abs: string; size: number }
  | { kind: 'dir'; abs: string }
  | { kind: 'missing' }
  | { kind: 'refused' };

/** Resolves decoded segments inside `root`, following symlinks only when they stay inside. */
async function resolveSafe(root: string, segments: string[]): Promise<Resolved> {
  if (segments.some((s) => s.startsWith('.'))) return { kind: 'missing' }; // temp/hidden files
  const abs = resolveInside(root, segments.join('/'));
  if (abs === null) return { kind: 'refused' };
  let real: string;
  try {
    real = await realpath(abs);
  } catch {
    return { kind: 'missing' };
  }
  if (!isInside(await realpath(root), real)) return { kind: 'refused' };
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(real);
  } catch {
    return { kind: 'missing' }; // removed (or a parent swapped away) since the realpath
  }
  if (st.isDirectory()) return { kind: 'dir', abs: real };
  if (st.isFile()) return { kind: 'file', abs: real, size: st.size };
  return { kind: 'missing' };
}

/**
 * Opens what `abs` names and proves that the descriptor is inside `realRoot`.
 *
 * `resolveSafe` checks a path, and `O_NOFOLLOW` guards only the last component of the open: a
 * parent folder exchanged for a symlink between the check and the open (issue 35 item 1) would
 * make the open land outside the root. So after opening, the kernel is asked what was opened
 * (`/proc/self/fd/N`, a link to the opened file's real path on Linux); outside the root, or
 * unknowable, it is closed and `null` returned. Where `/proc` is missing, the descriptor's
 * device and inode must equal those of the real path resolved after the open (a narrower
 * check: a swap back and forth between those two calls still passes).
 */
async function openInside(realRoot: string, abs: string): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null; // removed or replaced since it was resolved
  }
  try {
    if (await isOpenedInside(realRoot, abs, handle)) return handle;
  } catch {
    // fall through: refuse
  }
  await handle.close();
  return null;
}

let procFd: boolean | undefined;

async function isOpenedInside(realRoot: string, abs: string, handle: FileHandle): Promise<boolean> {
  if (procFd !== false) {
    try {
      const opened = await readlink(`/proc/self/fd/${handle.fd}`);
      procFd = true;
      // A file removed since reads "<its path> (deleted)": still judged by where it was.
      return isAbsolute(opened) && isInside(realRoot, opened);
    } catch (e) {
      if (procFd === true) return false;
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false;
      procFd = false; // no /proc: the fallback below
    }
  }
  const real = await realpath(abs);
  if (!isInside(realRoot, real)) return false;
  const [a, b] = await Promise.all([handle.stat(), stat(real)]);
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Sends a file from one descriptor: opened once (and checked to lie inside the root, see
 * {@link openInside}), its size taken from that descriptor (no race between a size check and the
 * open), streamed with `pipeline`, so a client that goes away, or a read error, destroys the
 * stream and closes the descriptor (no fd leak per aborted download).
 */
async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  realRoot: string,
  file: { abs: string },
  headers: Record<string, string>,
): Promise<void> {
  const head = req.method === 'HEAD';
  const handle = await openInside(realRoot, file.abs);
  if (handle === null) {
    send(res, 404, 'not found\n', {}, head); // removed, replaced or moved since it was resolved
    return;
  }
  let streaming = false;
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      send(res, 404, 'not found\n', {}, head);
      return;
    }
    const size = st.size;
    const base = {
      ...SECURITY_HEADERS,
      'Content-Type': contentTypeFor(file.abs),
      'Accept-Ranges': 'bytes',
      ...headers,
    };
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...base, 'Content-Range': `bytes */${size}`, 'Content-Length': '0' });
      res.end();
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    const length = Math.max(0, end - start + 1);
    res.writeHead(range ? 206 : 200, {
      ...base,
      'Content-Length': String(length),
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (head || length === 0 || res.destroyed) {
      res.end();
      return;
    }
    // The stream owns the descriptor from here (autoClose): destroyed with the response.
    const stream = handle.createReadStream({ start, end, autoClose: true });
    streaming = true;
    pipeline(stream, res, () => {
      // Finished, failed or aborted: pipeline has destroyed both ends, closing the descriptor.
    });
  } finally {
    if (!streaming) await handle.close();
  }
}

/**
 * Lists a runs sub-folder as `{ entries: [{ name, type }] }` (hidden files left out), or `null`
 * when the folder is gone or is not inside `realRoot` once opened. The folder is opened, checked
 * as files are ({@link openInside}), and read through its descriptor (`/proc/self/fd/N`) where
 * Linux offers that, so a parent swapped for a link after the check lists nothing outside.
 */
async function listDir(
  realRoot: string,
  abs: string,
): Promise<{ entries: { name: string; type: string }[] } | null> {
  const handle = await openInside(realRoot, abs);
  if (handle === null) return null;
  try {
    if (!(await handle.stat()).isDirectory()) return null;
    const dirents = await readdir(procFd === true ? `/proc/self/fd/${handle.fd}` : abs, {
      withFileTypes: true,
    });
    const entries = dirents
      .filter((d) => !d.name.startsWith('.') && (d.isFile() || d.isDirectory()))
      .map((d) => ({ name: d.name, type: d.isDirectory() ? 'directory' : 'file' }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { entries };
  } finally {
    await handle.close();
  }
}

/**
 * Starts the viewer server: the site at `/`, the runs folder read-only under `/runs/`
 * (`GET /runs/<run>/<file>` with `Range: bytes=N-`, `GET /runs/<dir>/?list` for listings).
 * Only GET and HEAD are accepted (405 otherwise); paths leaving a root get 403.
 * Requests whose `Host` header is not the bound loopback host are refused (DNS-rebinding guard)
 * unless `host` is a wildcard.
 *
 * @example
 * const server = await startViewerServer({ runsDir: 'runs' });
 * console.log(`viewer at ${server.url}`);
 * process.on('SIGINT', () => server.close());
 */
export async function startViewerServer(options: ViewerServerOptions): Promise<ViewerServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ViewerError('INVALID_OPTION', `port must be an integer in [0, 65535], got ${port}`);
  }
  const runsDir = resolve(options.runsDir);
  try {
    if (!(await stat(runsDir)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new ViewerError(
      'RUNS_DIR_NOT_FOUND',
      `runs folder ${runsDir} does not exist or is not a folder; pass the folder your training runs write to (default ./runs)`,
    );
  }
  const staticDir = resolve(options.staticDir ?? defaultStaticDir());
  const realRunsDir = await realpath(runsDir);
  // The site folder may be built after the server starts (`vite build --watch`): resolved lazily.
  const realStaticDir = (): Promise<string> => realpath(staticDir).catch(() => staticDir);
  const logger = options.logger ?? silentLogger;

  let boundPort = port;
  const allowedHosts = (): Set<string> =>
    new Set(
      ['localhost', '127.0.0.1', '[::1]', hostForUrl(host)].flatMap((h) => [
        h,
        `${h}:${boundPort}`,
      ]),
    );

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'read-only viewer: only GET and HEAD are allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    const hostHeader = req.headers.host;
    if (!isWildcard(host) && hostHeader !== undefined && !allowedHosts().has(hostHeader)) {
      send(res, 403, `unexpected Host header "${hostHeader}"\n`, {}, head);
      return;
    }
    const raw = req.url ?? '/';
    const q = raw.search(/[?#]/);
    const pathname = q < 0 ? raw : raw.slice(0, q);
    const query = q < 0 || raw[q] === '#' ? '' : raw.slice(q + 1).split('#')[0]!;
    const wantsList = query.split('&').some((p) => p === 'list' || p.startsWith('list='));
    const decoded = decodeRequestPath(pathname);
    if (!decoded.ok) {
      send(res, decoded.status, `${decoded.reason}\n`, {}, head);
      return;
    }
    const [first, ...rest] = decoded.segments;
    if (first === RUNS_PREFIX) {
      const target = await resolveSafe(runsDir, rest);
      if (target.kind === 'refused') return send(res, 403, 'outside the runs folder\n', {}, head);
      if (target.kind === 'missing') return send(res, 404, 'not found\n', {}, head);
      if (target.kind === 'dir') {
        if (!wantsList) return send(res, 404, 'a folder: add ?list to list it\n', {}, head);
        const listing = await listDir(realRunsDir, target.abs);
        if (listing === null) return send(res, 404, 'not found\n', {}, head);
        const body = JSON.stringify(listing);
        return send(res, 200, body, { 'Content-Type': 'application/json; charset=utf-8' }, head);
      }
      return await sendFile(req, res, realRunsDir, target, { 'Cache-Control': 'no-store' });
    }
    const segments = decoded.segments.length === 0 ? ['index.html'] : decoded.segments;
    const target = await resolveSafe(staticDir, segments);
    if (target.kind === 'refused') return send(res, 403, 'outside the site folder\n', {}, head);
    if (target.kind !== 'file') return send(res, 404, 'not found\n', {}, head);
    const isHtml = target.abs.endsWith('.html');
    await sendFile(req, res, await realStaticDir(), target, {
      'Cache-Control': 'no-cache',
      ...(isHtml ? { 'Content-Security-Policy': CSP } : {}),
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      logger.warn(`viewer: ${req.method} ${req.url} failed: ${(e as Error).message}`);
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  const url = `http://${hostForUrl(host)}:${boundPort}/`;
  logger.info(`viewer: serving ${runsDir} at ${url}`);
  return {
    url,
    port: boundPort,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((e) => (e ? fail(e) : ok()));
        server.closeAllConnections();
      }),
  };
}

/** URL of one run's page on a running viewer (`page`: overview, rollouts or eval). */
export function runUrl(
  baseUrl: string,
  runId: string,
  page: 'overview' | 'rollouts' | 'eval' = 'overview',
): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const id = encodeURIComponent(runId);
  return page === 'overview' ? `${base}#/run/${id}` : `${base}#/run/${id}/${page}`;
}
