// JSONL parsing that tolerates a run being written: a torn last line is ignored and reported,
// any other bad line is an error naming file:line (or collected, in tolerant mode).
import type { z } from 'zod';
import { RunsError } from './errors.js';
import { validateRecord } from './validate.js';

/** A problem found while reading, located by file and line. */
export interface ReadProblem {
  file: string;
  line: number;
  code: string;
  message: string;
}

/** Result of parsing JSONL text. */
export interface JsonlResult<T> {
  records: T[];
  /** Bad lines (only in tolerant mode; strict mode throws instead). */
  problems: ReadProblem[];
  /** True when the text ended in an incomplete line (a writer is mid-append); it was ignored. */
  tornTail: boolean;
  /** Number of bytes of complete lines consumed (for incremental reads). */
  consumedBytes: number;
}

/** Options for {@link parseJsonl}. */
export interface ParseJsonlOptions {
  /** File name used in messages. */
  file: string;
  /** 1-based number of the first line in `text` (for incremental reads). Default 1. */
  firstLine?: number;
  /** `strict` (default) throws on a bad complete line; `tolerant` collects it in `problems`. */
  mode?: 'strict' | 'tolerant';
}

const encoder = new TextEncoder();

/**
 * Parses JSONL text into validated records. The final line is only parsed when it ends in `\n`:
 * without one it may be half-written, so it is skipped and `tornTail` is set.
 */
export function parseJsonl<S extends z.ZodType>(
  text: string,
  schema: S,
  options: ParseJsonlOptions,
): JsonlResult<z.infer<S>> {
  const { file, firstLine = 1, mode = 'strict' } = options;
  const records: z.infer<S>[] = [];
  const problems: ReadProblem[] = [];
  const lastNewline = text.lastIndexOf('\n');
  const complete = lastNewline < 0 ? '' : text.slice(0, lastNewline + 1);
  const tail = text.slice(lastNewline + 1);
  const lines = complete.length > 0 ? complete.slice(0, -1).split('\n') : [];
  lines.forEach((raw, i) => {
    const line = firstLine + i;
    const trimmed = raw.trim();
    if (trimmed === '') return;
    try {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (e) {
        throw new RunsError(
          'INVALID_JSON',
          `${file}:${line}: not valid JSON (${(e as Error).message}). Each line must be one JSON object.`,
          { file, line },
        );
      }
      records.push(validateRecord(schema, value, { file, line }));
    } catch (e) {
      if (mode === 'strict' || !(e instanceof RunsError)) throw e;
      problems.push({ file, line, code: e.code, message: e.message });
    }
  });
  const tornTail = tail.trim().length > 0;
  return { records, problems, tornTail, consumedBytes: encoder.encode(complete).length };
}

/**
 * Streams validated records from a byte stream (Web `ReadableStream` or any async iterable of
 * bytes) without holding the whole file in memory. A torn final line is skipped; `onTornTail`
 * is called with its line number.
 */
export async function* streamJsonl<S extends z.ZodType>(
  chunks: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  schema: S,
  options: ParseJsonlOptions & {
    onTornTail?: (line: number) => void;
    onProblem?: (p: ReadProblem) => void;
  },
): AsyncGenerator<z.infer<S>> {
  const decoder = new TextDecoder();
  let buffer = '';
  let line = options.firstLine ?? 1;
  const iterable: AsyncIterable<Uint8Array> =
    Symbol.asyncIterator in chunks
      ? (chunks as AsyncIterable<Uint8Array>)
      : readableToIterable(chunks as ReadableStream<Uint8Array>);
  const flush = function* (text: string) {
    const result = parseJsonl(text, schema, {
      file: options.file,
      firstLine: line,
      mode: options.mode ?? 'strict',
    });
    for (const p of result.problems) options.onProblem?.(p);
    line += countNewlines(text);
    yield* result.records;
  };
  for await (const chunk of iterable) {
    buffer += decoder.decode(chunk, { stream: true });
    const cut = buffer.lastIndexOf('\n');
    if (cut >= 0) {
      const complete = buffer.slice(0, cut + 1);
      buffer = buffer.slice(cut + 1);
      yield* flush(complete);
    }
  }
  buffer += decoder.decode();
  if (buffer.trim().length > 0) options.onTornTail?.(line);
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

async function* readableToIterable(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
