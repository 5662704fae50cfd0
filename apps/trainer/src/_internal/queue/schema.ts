// The queue's wire records and their schemas: the envelope a trainer adds to BullMQ (protocol
// version, job identity, weights version, the pool's own Job record) and the result a worker
// returns. Both are checked on arrival; a record that fails is named, never run or applied.
import type { Rollout } from '@atmanrl/grpo';
import type { MaskFitResult } from '@atmanrl/saliency';
import { z } from 'zod';
import type { Job } from '../pool/index.js';
import { decodeValue } from './codec.js';
import { QueueError } from './errors.js';

/**
 * Version of the queue's records. A worker refuses an envelope of another version, naming both;
 * bump it whenever a record below changes shape or meaning.
 */
export const QUEUE_PROTOCOL = 1;

/** Where the workers fetch a weights version from (see weights-store.ts). */
export type StoreRef = { kind: 'redis' } | { kind: 'dir'; path: string };

/** A published policy version: content-addressed model folder (spec files + weights). */
export interface WeightsRef {
  /** sha256 (hex) of the version's model.safetensors bytes. */
  sha256: string;
  /** sha256 (hex) of the spec bundle (config.json, tokenizer files). */
  spec: string;
  /** Size of the safetensors bytes. */
  bytes: number;
  store: StoreRef;
}

/** What a BullMQ job carries: identity (run, session, step, job id, weights) and the job record. */
export interface QueueEnvelope {
  protocol: number;
  /** The run's id (its folder name). */
  run: string;
  /** One trainer process of the run; jobs of an older session are discarded. */
  session: string;
  /** Training step = the pool's weights version number. */
  step: number;
  weights: WeightsRef;
  job: Job;
}

/** What a worker returns for one envelope. */
export interface QueueResult {
  protocol: number;
  /** The pool job id (e.g. `fit-12`). */
  id: string;
  kind: 'generate' | 'fit';
  value: Rollout[] | MaskFitResult[];
  /** Wall time of the job in its worker thread (ms). */
  busyMs: number;
  cpuMs: number | null;
  /** The worker that ran it (`host pid N`). */
  worker: string;
}

const float = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const int = z.number().int();
const nat = int.nonnegative();
const ids = z.array(nat);
const sha = z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 in hex');

const storeRef = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('redis') }),
  z.strictObject({ kind: z.literal('dir'), path: z.string().min(1) }),
]);

const generateJob = z.strictObject({
  kind: z.literal('generate'),
  id: z.string().min(1),
  weightsVersion: int,
  promptIds: z.array(ids.min(1)).min(1),
  numGenerations: int.positive(),
  sampling: z.strictObject({
    maxCompletionLength: int.positive(),
    temperature: float,
    topP: float.optional(),
    topK: nat.optional(),
    eosTokenIds: ids.optional(),
    stopStrings: z.array(z.string()).optional(),
  }),
  seed: nat,
  offset: nat,
});

const saliencyItem = z.strictObject({
  promptIds: ids.min(1),
  cotIds: ids,
  delimiterIds: ids,
  goldAnswerIds: ids.min(1),
});

const fitJob = z.strictObject({
  kind: z.literal('fit'),
  id: z.string().min(1),
  weightsVersion: int,
  items: z.array(saliencyItem),
  // Known options typed; an option a newer saliency adds passes through unchanged.
  options: z.looseObject({
    steps: int.positive().optional(),
    lr: float.optional(),
    betas: z.tuple([float, float]).optional(),
    weightDecay: float.optional(),
    eps: float.optional(),
    init: float.optional(),
    scale: float.optional(),
    queries: z.enum(['all', 'answer']).optional(),
    prefixReuse: z.boolean().optional(),
    earlyStop: z.strictObject({ patience: int.positive(), minDelta: float.optional() }).optional(),
    maxBatchSize: int.positive().optional(),
    maxTokensPerBatch: int.positive().optional(),
    diagnostics: z.boolean().optional(),
  }),
  offset: nat,
});

const envelope = z.strictObject({
  protocol: int,
  run: z.string().min(1),
  session: z.string().min(1),
  step: int,
  weights: z.strictObject({ sha256: sha, spec: sha, bytes: nat, store: storeRef }),
  job: z.discriminatedUnion('kind', [generateJob, fitJob]),
});

const rollout = z.looseObject({
  promptIndex: nat,
  promptIds: ids,
  completionIds: ids,
  text: z.string(),
  oldLogProbs: z.array(float).nullable(),
  truncated: z.boolean(),
});

const maskFit = z.looseObject({
  method: z.literal('atmanrl'),
  cotIds: ids,
  relevance: z.array(float),
  ceNoBias: float,
  theta: z.array(float),
  h: float,
  losses: z.array(float),
  ceInitial: float,
  ceFinal: float,
  steps: nat,
});

const result = z.discriminatedUnion('kind', [
  z.strictObject({
    protocol: int,
    id: z.string(),
    kind: z.literal('generate'),
    value: z.array(rollout),
    busyMs: float,
    cpuMs: float.nullable(),
    worker: z.string(),
  }),
  z.strictObject({
    protocol: int,
    id: z.string(),
    kind: z.literal('fit'),
    value: z.array(maskFit),
    busyMs: float,
    cpuMs: float.nullable(),
    worker: z.string(),
  }),
]);

function issues(e: z.ZodError): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** The protocol version a record claims (null when it has none). */
function protocolOf(raw: unknown): number | null {
  const p =
    raw !== null && typeof raw === 'object' ? (raw as { protocol?: unknown }).protocol : null;
  return typeof p === 'number' ? p : null;
}

function checkProtocol(raw: unknown, what: string, here: string): void {
  const p = protocolOf(raw);
  if (p !== null && p !== QUEUE_PROTOCOL) {
    throw new QueueError(
      'PROTOCOL_MISMATCH',
      `${what} speaks atmanrl queue protocol ${p}, ${here} speaks protocol ${QUEUE_PROTOCOL}; run the trainer and every worker from the same atmanrl version`,
    );
  }
}

/**
 * Checks a job's data as BullMQ hands it to a worker (tagged JSON, see codec.ts).
 * @throws QueueError `PROTOCOL_MISMATCH` (naming both versions), `BAD_JOB` (naming the fields)
 */
export function parseEnvelope(raw: unknown, jobId: string): QueueEnvelope {
  checkProtocol(raw, `job ${jobId}`, 'this worker');
  // Checked, then used as sent (the schema's copy would reorder keys).
  const decoded = decodeValue(raw);
  const r = envelope.safeParse(decoded);
  if (!r.success) {
    throw new QueueError('BAD_JOB', `job ${jobId} is malformed: ${issues(r.error)}`, { jobId });
  }
  return decoded as QueueEnvelope;
}

/**
 * Checks a job's return value as the trainer reads it back.
 * @throws QueueError `PROTOCOL_MISMATCH`, `BAD_RESULT` (naming the fields)
 */
export function parseResult(raw: unknown, jobId: string, expected: Job): QueueResult {
  checkProtocol(raw, `the worker that ran job ${jobId}`, 'this trainer');
  const decoded = decodeValue(raw);
  const r = result.safeParse(decoded);
  if (!r.success) {
    throw new QueueError(
      'BAD_RESULT',
      `the result of job ${jobId} is malformed: ${issues(r.error)}`,
      {
        jobId,
      },
    );
  }
  // The worker's values as computed (key order included), not the schema's copy.
  const out = decoded as QueueResult;
  const n =
    expected.kind === 'generate'
      ? expected.promptIds.length * expected.numGenerations
      : expected.items.length;
  if (out.id !== expected.id || out.kind !== expected.kind || out.value.length !== n) {
    throw new QueueError(
      'BAD_RESULT',
      `the result of job ${jobId} does not answer it: ${out.kind} ${out.id} with ${out.value.length} values, expected ${expected.kind} ${expected.id} with ${n}`,
      { jobId },
    );
  }
  return out;
}
