// `--queue redis://[user:password@]host:port[/db]` (rediss:// for TLS): parsed, checked, and turned
// into an ioredis client that BullMQ accepts. Passwords never appear in messages (`redacted`).
import { Redis } from 'ioredis';
import { QueueError } from './errors.js';

/** A checked `--queue` URL. */
export interface QueueUrl {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL with the password replaced by `***`, for messages and logs. */
  redacted: string;
}

/**
 * Parses `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS).
 * @throws QueueError `BAD_QUEUE_URL` naming the option and the expected form
 */
export function parseQueueUrl(text: string, option = '--queue'): QueueUrl {
  const bad = (why: string): never => {
    throw new QueueError(
      'BAD_QUEUE_URL',
      `${option} ${JSON.stringify(text.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@'))}: ${why}; expected redis://[user:password@]host:port[/db] or rediss://… for TLS, e.g. redis://:secret@10.0.0.5:6379/0`,
    );
  };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad('not a URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return bad(`the scheme is ${url.protocol.replace(/:$/, '')}, not redis or rediss`);
  }
  if (url.hostname === '') return bad('no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (!/^\d*$/.test(path)) return bad(`the database "${path}" is not a number`);
  const db = path === '' ? 0 : Number(path);
  if (url.search !== '' || url.hash !== '') return bad('query strings and fragments are not used');
  const username = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const redacted = `${url.protocol}//${username}${password ? ':***' : ''}${username || password ? '@' : ''}${url.host}${path ? `/${db}` : ''}`;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: url.protocol === 'rediss:',
    redacted,
  };
}

/**
 * An ioredis client for BullMQ (`maxRetriesPerRequest: null`, as BullMQ workers require): it
 * reconnects on its own after a Redis restart, every 0.2–2 s, until `closed()` says its owner is
 * closed (then it and the connections BullMQ duplicates from it give up, so nothing keeps the
 * process alive); callers bound their waits.
 */
export function redisClient(
  url: QueueUrl,
  name: string,
  closed: () => boolean = () => false,
): Redis {
  return new Redis({
    host: url.host,
    port: url.port,
    db: url.db,
    ...(url.username ? { username: url.username } : {}),
    ...(url.password ? { password: url.password } : {}),
    ...(url.tls ? { tls: { servername: url.host } } : {}),
    connectionName: name,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => (closed() ? null : Math.min(200 * times, 2000)),
  });
}
