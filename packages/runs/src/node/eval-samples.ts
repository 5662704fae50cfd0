// Writing and reading an evaluation's stored completions as gzip'd JSONL
// (`eval/<name>.samples.jsonl.gz`, one `EvalSampleRecord` a line), atomically.
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { RunsError } from '../errors.js';
import { parseEvalSamples } from '../eval-samples.js';
import {
  type EvalSampleRecord,
  EvalSampleRecordSchema,
  SCHEMA_VERSION,
  type WithoutVersion,
} from '../schemas.js';
import { validateRecord } from '../validate.js';
import { writeFileAtomic } from './atomic.js';

/**
 * Writes `records` (validated, `version` filled in) to `path` as gzip'd JSONL, atomically.
 * @throws RunsError `INVALID_RECORD` naming the record, `WRITE_FAILED`
 */
export function writeEvalSamples(
  path: string,
  records: readonly WithoutVersion<EvalSampleRecord>[],
): void {
  const lines = records.map((r, i) =>
    JSON.stringify(
      validateRecord(
        EvalSampleRecordSchema,
        { ...r, version: SCHEMA_VERSION },
        { file: path, line: i + 1 },
      ),
    ),
  );
  writeFileAtomic(path, gzipSync(Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8')));
}

/**
 * Reads an evaluation's stored completions from a gzip'd JSONL file.
 * @throws RunsError `NOT_FOUND`, `INVALID_JSON` (also for bytes that are not gzip), `INVALID_RECORD`
 */
export function readEvalSamples(path: string): EvalSampleRecord[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new RunsError('NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`, {
      file: path,
      cause: e,
    });
  }
  let text: string;
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (e) {
    throw new RunsError('INVALID_JSON', `${path} is not gzip'd JSONL: ${(e as Error).message}`, {
      file: path,
      cause: e,
    });
  }
  return parseEvalSamples(text, path);
}
