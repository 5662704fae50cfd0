// The queue's records without workers: --queue URLs, the number codec (NaN, ±Infinity, -0 survive),
// result schemas, weights hashes, the worker's flags.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FitJob } from '../src/_internal/pool/index.js';
import { decodeValue, encodeValue } from '../src/_internal/queue/codec.js';
import {
  parseEnvelope,
  parseQueueUrl,
  parseResult,
  parseWorkerArgs,
  QUEUE_PROTOCOL,
} from '../src/_internal/queue/index.js';
import { DirStore, fetchVerified, sha256 } from '../src/_internal/queue/weights-store.js';
import { tempDir } from './helpers.js';

describe('parseQueueUrl', () => {
  it('reads host, port, db, user, password and TLS, and redacts the password', () => {
    expect(parseQueueUrl('redis://127.0.0.1:6380/2')).toEqual({
      host: '127.0.0.1',
      port: 6380,
      db: 2,
      tls: false,
      redacted: 'redis://127.0.0.1:6380/2',
    });
    expect(parseQueueUrl('rediss://trainer:s%40cret@queue.lab:6379')).toEqual({
      host: 'queue.lab',
      port: 6379,
      db: 0,
      username: 'trainer',
      password: 's@cret',
      tls: true,
      redacted: 'rediss://trainer:***@queue.lab:6379',
    });
    expect(parseQueueUrl('redis://:pw@[::1]').host).toBe('::1');
  });

  it('rejects what is not a Redis URL, naming the option and never the password', () => {
    for (const [url, why] of [
      ['http://x:6379', /the scheme is http, not redis or rediss/],
      ['redis://:hunter2@h:6379/zero', /the database "zero" is not a number/],
      ['localhost:6379', /scheme is localhost|not a URL/],
      ['redis://h:6379/0?tls=1', /query strings/],
    ] as const) {
      let message = '';
      try {
        parseQueueUrl(url);
      } catch (e) {
        expect(e).toMatchObject({ name: 'QueueError', code: 'BAD_QUEUE_URL' });
        message = (e as Error).message;
      }
      expect(message).toMatch(why);
      expect(message).toMatch(/^--queue /);
      expect(message).not.toMatch(/hunter2/);
    }
  });
});

describe('codec', () => {
  it('round-trips the numbers JSON cannot carry, bit for bit', () => {
    const value = {
      a: [Number.NaN, -0, 0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5],
      t: 'NaN',
    };
    const back = decodeValue(JSON.parse(JSON.stringify(encodeValue(value)))) as typeof value;
    expect(Object.is(back.a[0], Number.NaN)).toBe(true);
    expect(Object.is(back.a[1], -0)).toBe(true);
    expect(Object.is(back.a[2], 0)).toBe(true);
    expect(back.a.slice(3)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5]);
    expect(back.t).toBe('NaN'); // a completion text "NaN" stays a string
  });
});

const fitJob: FitJob = {
  kind: 'fit',
  id: 'fit-3',
  weightsVersion: 2,
  items: [{ promptIds: [1, 2], cotIds: [3], delimiterIds: [], goldAnswerIds: [4] }],
  options: { steps: 2 },
  offset: 0,
};
const fitValue = {
  method: 'atmanrl',
  cotIds: [3],
  relevance: [0.5],
  ceNoBias: 1,
  theta: [-0.2],
  h: -0.2,
  losses: [Number.NaN, 2],
  ceInitial: 2,
  ceFinal: 1.5,
  steps: 2,
};
const result = (over: Record<string, unknown> = {}) =>
  encodeValue({
    protocol: QUEUE_PROTOCOL,
    id: 'fit-3',
    kind: 'fit',
    value: [fitValue],
    busyMs: 3,
    cpuMs: null,
    worker: 'h pid 1',
    ...over,
  });

describe('parseResult and parseEnvelope', () => {
  it('accepts a well-formed result with its values as computed (NaN kept)', () => {
    const r = parseResult(result(), 'q1', fitJob);
    expect(Object.is((r.value[0] as typeof fitValue).losses[0], Number.NaN)).toBe(true);
  });

  it('rejects a malformed result, a result of another job, and another protocol by name', () => {
    expect(() =>
      parseResult(result({ value: [{ ...fitValue, theta: 'x' }] }), 'q1', fitJob),
    ).toThrow(/^the result of job q1 is malformed: value\.0\.theta: /);
    expect(() => parseResult(result({ id: 'fit-4' }), 'q1', fitJob)).toThrow(
      /does not answer it: fit fit-4 with 1 values, expected fit fit-3 with 1/,
    );
    try {
      parseResult(result({ protocol: 0 }), 'q1', fitJob);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'PROTOCOL_MISMATCH' });
      expect((e as Error).message).toMatch(
        /speaks atmanrl queue protocol 0, this trainer speaks protocol 1/,
      );
    }
  });

  it('carries the fit option diagnostics: false, and names a bad one', () => {
    const envelope = (options: Record<string, unknown>) =>
      encodeValue({
        protocol: QUEUE_PROTOCOL,
        run: 'r',
        session: 's',
        step: 2,
        weights: {
          sha256: 'a'.repeat(64),
          spec: 'b'.repeat(64),
          bytes: 8,
          store: { kind: 'redis' },
        },
        job: { ...fitJob, options },
      });
    const job = parseEnvelope(envelope({ steps: 7, diagnostics: false }), 'j1').job as FitJob;
    expect(job.options.diagnostics).toBe(false);
    expect(() => parseEnvelope(envelope({ diagnostics: 'no' }), 'j2')).toThrow(
      /^job j2 is malformed: job\.options\.diagnostics: /,
    );
    // a result without the diagnostic CEs (NaN) is read back as computed
    const lean = { ...fitValue, ceNoBias: Number.NaN, ceFinal: Number.NaN };
    const r = parseResult(result({ value: [lean] }), 'q2', fitJob);
    expect(Object.is((r.value[0] as typeof fitValue).ceFinal, Number.NaN)).toBe(true);
  });

  it('rejects a malformed envelope naming its fields', () => {
    expect(() => parseEnvelope({ protocol: QUEUE_PROTOCOL, run: 'r' }, 'j9')).toThrow(
      /^job j9 is malformed: session: /,
    );
  });
});

describe('weights store', () => {
  it('refuses bytes that do not hash to the version asked for', async () => {
    const dir = tempDir('weights-');
    const store = new DirStore(dir);
    const bytes = new TextEncoder().encode('weights v1');
    const sha = sha256(bytes);
    await store.put(sha, bytes);
    expect(await fetchVerified(store, sha, 'the weights')).toEqual(bytes);
    writeFileSync(join(dir, `${sha}.blob`), 'tampered');
    await expect(fetchVerified(store, sha, 'the weights of step 3')).rejects.toMatchObject({
      code: 'WEIGHTS_HASH_MISMATCH',
      message: expect.stringMatching(
        /the weights of step 3 from the shared directory .* hashes to [0-9a-f]{64}, not /,
      ),
    });
    await expect(
      fetchVerified(store, sha256(new Uint8Array([1])), 'the weights'),
    ).rejects.toMatchObject({
      code: 'WEIGHTS_MISSING',
    });
  });
});

describe('worker flags', () => {
  it('parses the worker options and rejects bad ones', () => {
    expect(parseWorkerArgs(['--queue', 'redis://h:1', '--concurrency', '3'])).toEqual({
      url: 'redis://h:1',
      backend: 'cpu',
      concurrency: 3,
    });
    expect(() => parseWorkerArgs(['--concurrency', '2'])).toThrow(/--queue is required/);
    expect(() => parseWorkerArgs(['--queue', 'redis://h:1', '--concurrency', '0'])).toThrow(
      /--concurrency 0: expected an integer ≥ 1/,
    );
  });
});
