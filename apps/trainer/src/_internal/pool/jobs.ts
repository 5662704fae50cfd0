// The pool's unit of work: plain serialisable job records (no tensors, no functions) and the two
// job functions that run them on a model, the same code in a worker and in-process. Leaves out
// scheduling (pool.ts) and the weights transport (weights.ts).
import { readFileSync } from 'node:fs';
import {
  generateOptionsOf,
  InProcessRolloutEngine,
  type Rollout,
  type RolloutSampling,
} from '@atmanrl/grpo';
import {
  type CausalLM,
  createRng,
  type GenerationResult,
  type KVCache,
  type Rng,
  sampleToken,
} from '@atmanrl/model';
import {
  type FitSaliencyOptions,
  fitSaliencyMasks,
  type MaskFitResult,
  type SaliencyItem,
} from '@atmanrl/saliency';
import * as tf from '@tensorflow/tfjs-core';

/** Sampling settings of a {@link GenerateJob}: the `RolloutRequest` fields that cross the seam. */
export type JobSampling = RolloutSampling;

/** `FitSaliencyOptions` without the callbacks (`onStep`, `logger`), so it can cross a thread. */
export type SerialisableFitOptions = Omit<FitSaliencyOptions, 'onStep' | 'logger'>;

/**
 * Sample `numGenerations` completions for each of a few prompts, from a fresh RNG seeded by
 * `seed`, on the weights of version `weightsVersion`.
 */
export interface GenerateJob {
  kind: 'generate';
  /** Unique within the pool's life; named in errors. */
  id: string;
  weightsVersion: number;
  /** The job's prompts (token ids); rows are prompt-major, G per prompt. */
  promptIds: number[][];
  numGenerations: number;
  sampling: JobSampling;
  /** Seed of the job's own RNG (`createRng(seed)`), drawn by the caller in job order. */
  seed: number;
  /** Index of the job's first prompt in the caller's batch (for error messages). */
  offset: number;
  /**
   * Completions per generation pass (`--generation-batch-size`; default all of the job's rows):
   * bounds the memory of a pass. The completions do not depend on it (see {@link generateInPasses}).
   */
  rowsPerPass?: number;
}

/** Fit one AtManRL mask per item on the frozen weights of version `weightsVersion`. */
export interface FitJob {
  kind: 'fit';
  id: string;
  weightsVersion: number;
  items: SaliencyItem[];
  options: SerialisableFitOptions;
  /** Index of the job's first item in the caller's batch (for error messages). */
  offset: number;
}

/** Any job the pool runs. */
export type Job = GenerateJob | FitJob;

/** What a job returns: `Rollout[]` (promptIndex relative to the job) or `MaskFitResult[]`. */
export type JobValue<J extends Job> = J extends GenerateJob ? Rollout[] : MaskFitResult[];

/** A job's value and how long it kept its worker busy. */
export interface JobResult<J extends Job = Job> {
  id: string;
  value: JobValue<J>;
  /** Wall time the job ran in its worker (ms), weights loading excluded. */
  busyMs: number;
  /**
   * CPU time of the thread that ran the job (ms, 10 ms ticks; Linux only, else null). Unlike
   * `busyMs` it does not grow when other processes compete for the cores.
   */
  cpuMs: number | null;
}

/** CPU time (user + system) of the calling thread in ms, from /proc/thread-self/stat; null elsewhere. */
export function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
/** USER_HZ: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS = 100;

/** "generate job g-3 (prompt 3 of the batch)" - how errors name a job and its items. */
export function describeJob(job: Job): string {
  const n = job.kind === 'generate' ? job.promptIds.length : job.items.length;
  const noun = job.kind === 'generate' ? 'prompt' : 'item';
  const range = n === 1 ? `${noun} ${job.offset}` : `${noun}s ${job.offset}..${job.offset + n - 1}`;
  return `${job.kind} job ${job.id} (${range} of the batch, weights version ${job.weightsVersion})`;
}

/**
 * Runs a generate job: the job's prompts repeated G times (prompt-major), one `generate` call,
 * one fresh RNG. Element `p*G + g` is completion g of the job's prompt p.
 */
export async function runGenerateJob(model: CausalLM, job: GenerateJob): Promise<Rollout[]> {
  const rows = job.promptIds.length * job.numGenerations;
  if (job.rowsPerPass !== undefined && job.rowsPerPass < rows) {
    const rowPrompts = job.promptIds.flatMap((p, i) =>
      Array.from({ length: job.numGenerations }, () => ({ i, ids: [...p] })),
    );
    const rng = createRng(job.seed);
    const results = await generateInPasses(
      model,
      rowPrompts.map((r) => r.ids),
      { ...generateOptionsOf(job.sampling, rng), temperature: job.sampling.temperature, rng },
      job.rowsPerPass,
    );
    // the same records as InProcessRolloutEngine makes from `generate`'s results
    return results.map((res, k) => ({
      promptIndex: rowPrompts[k]!.i,
      promptIds: rowPrompts[k]!.ids,
      completionIds: res.tokenIds.slice(),
      text: res.text,
      oldLogProbs: res.logProbs.length === res.tokenIds.length ? res.logProbs.slice() : null,
      truncated: res.truncated,
    }));
  }
  // The in-process engine of @atmanrl/grpo, with the job's own RNG stream.
  return new InProcessRolloutEngine(model).generate({
    ...job.sampling,
    promptIds: job.promptIds,
    numGenerations: job.numGenerations,
    rng: createRng(job.seed),
  });
}

/** Sampling options of {@link generateInPasses} (those of `CausalLM.generate` it supports). */
export interface PassGenerateOptions {
  maxNewTokens: number;
  temperature: number;
  rng: Rng;
  topP?: number;
  topK?: number;
  stopStrings?: string[];
  eosTokenIds?: number[];
}

/**
 * `model.generate(promptIds, options)` with at most `rowsPerPass` rows in each forward pass, and
 * the same results: the rows advance in lockstep, one token per step, each pass with its own KV
 * cache; every row is left-padded to the longest prompt of all rows (as in one batch), and after
 * each step's passes the rows sample in row order from the one `rng`, so the draws are the same.
 * A forward computes each row independently of the others, so on the cpu backend the completions
 * and log-probs are bit-identical to one batch (tested). What shrinks is the prompt's forward pass
 * (its activations and attention scores, the largest term for long prompts); the KV caches of all
 * rows still live together. Passes whose rows have all finished are skipped.
 */
export async function generateInPasses(
  model: CausalLM,
  promptIds: number[][],
  options: PassGenerateOptions,
  rowsPerPass: number,
): Promise<GenerationResult[]> {
  if (!Number.isInteger(rowsPerPass) || rowsPerPass < 1) {
    throw new RangeError(`rowsPerPass = ${rowsPerPass}; expected a positive integer`);
  }
  // generate's own argument checks (ids in the vocabulary, temperature, top-p, a tokenizer for
  // stop strings), without generating anything
  await model.generate(promptIds, { ...options, maxNewTokens: 0 });
  const cfg = model.config;
  const tok = model.tokenizer;
  const b = promptIds.length;
  const v = cfg.vocab_size;
  const greedy = options.temperature === 0;
  const scale = greedy ? 1 : options.temperature;
  const eos = new Set(options.eosTokenIds ?? [...cfg.eos_token_id, ...(tok?.eosTokenIds ?? [])]);
  const pad = cfg.pad_token_id ?? tok?.padTokenId ?? 0;
  const stops = options.stopStrings?.filter((x) => x.length > 0) ?? [];
  const p = Math.max(...promptIds.map((x) => x.length));
  const seqs = promptIds.map((x) => [...new Array<number>(p - x.length).fill(pad), ...x]);
  const masks = promptIds.map((x) => [
    ...new Array<number>(p - x.length).fill(0),
    ...new Array<number>(x.length).fill(1),
  ]);
  const results: GenerationResult[] = promptIds.map(() => ({
    tokenIds: [],
    text: '',
    logProbs: [],
    truncated: false,
  }));
  const done = new Array<boolean>(b).fill(false);
  const passes: { start: number; end: number; cache: KVCache }[] = [];
  try {
    for (let start = 0; start < b; start += rowsPerPass) {
      const end = Math.min(b, start + rowsPerPass);
      passes.push({ start, end, cache: model.createCache(end - start) });
    }
    const opts = {
      greedy,
      ...(options.topK !== undefined ? { topK: options.topK } : {}),
      ...(options.topP !== undefined ? { topP: options.topP } : {}),
    };
    for (let step = 0; step < options.maxNewTokens && !done.every(Boolean); step++) {
      const cur = seqs[0]!.length;
      const feedFrom = step > 0 ? cur - 1 : 0; // with a cache only the newest token is fed
      const rowsData = new Array<Float32Array | null>(b).fill(null);
      for (const pass of passes) {
        if (done.slice(pass.start, pass.end).every(Boolean)) continue;
        const n = pass.end - pass.start;
        const logProbs = tf.tidy(() => {
          const width = cur - feedFrom;
          const ids = tf.tensor2d(
            seqs.slice(pass.start, pass.end).flatMap((x) => x.slice(feedFrom)),
            [n, width],
            'int32',
          );
          const attentionMask = tf.tensor2d(masks.slice(pass.start, pass.end).flat(), [n, cur]);
          const hidden = model.hiddenStates(ids, { attentionMask, cache: pass.cache });
          const last = tf.slice(hidden, [0, width - 1, 0], [n, 1, cfg.hidden_size]) as tf.Tensor3D;
          const logits = tf.reshape(model.head(last), [n, v]);
          return tf.logSoftmax(scale === 1 ? logits : tf.div(logits, scale));
        });
        let data: Float32Array;
        try {
          data = (await logProbs.data()) as Float32Array;
        } finally {
          logProbs.dispose();
        }
        for (let r = pass.start; r < pass.end; r++) {
          rowsData[r] = data.subarray((r - pass.start) * v, (r - pass.start + 1) * v);
        }
      }
      for (let r = 0; r < b; r++) {
        let next = pad;
        if (!done[r]) {
          const row = rowsData[r]!;
          next = sampleToken(row, opts, options.rng);
          const res = results[r]!;
          res.tokenIds.push(next);
          res.logProbs.push(row[next]!);
          if (eos.has(next)) done[r] = true;
          else if (stops.length > 0) {
            const text = tok!.decode(res.tokenIds, { skipSpecialTokens: true });
            if (stops.some((x) => text.includes(x))) done[r] = true;
          }
        }
        seqs[r]!.push(next);
        masks[r]!.push(1);
      }
    }
  } finally {
    for (const pass of passes) pass.cache.dispose();
  }
  for (let r = 0; r < b; r++) {
    const res = results[r]!;
    res.truncated = !done[r] && res.tokenIds.length >= options.maxNewTokens;
    if (tok) res.text = tok.decode(res.tokenIds, { skipSpecialTokens: true });
  }
  return results;
}

/** Runs a fit job: `fitSaliencyMasks` on the job's items, one result per item, in order. */
export async function runFitJob(model: CausalLM, job: FitJob): Promise<MaskFitResult[]> {
  if (job.items.length === 0) return [];
  return fitSaliencyMasks(model, job.items, job.options);
}

/** Runs any job on `model` (the frozen weights the job's version names) and times it. */
export async function runJob<J extends Job>(model: CausalLM, job: J): Promise<JobResult<J>> {
  const t0 = performance.now();
  const c0 = threadCpuMs();
  const value = (
    job.kind === 'generate' ? await runGenerateJob(model, job) : await runFitJob(model, job)
  ) as JobValue<J>;
  const c1 = threadCpuMs();
  return {
    id: job.id,
    value,
    busyMs: performance.now() - t0,
    cpuMs: c0 === null || c1 === null ? null : c1 - c0,
  };
}
