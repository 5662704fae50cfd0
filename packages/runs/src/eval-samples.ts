// The stored completions of an evaluation (`eval/<name>.samples.jsonl.gz`): the file name and the
// browser-safe parser of its (decompressed) JSONL text. Writing and reading the gzip'd file are in
// `@atmanrl/runs/node`.
import { parseJsonl } from './jsonl.js';
import { type EvalSampleRecord, EvalSampleRecordSchema } from './schemas.js';

/** Run-relative path of an evaluation's stored completions: `eval/<name>.samples.jsonl.gz`. */
export function evalSamplesPath(name: string): string {
  return `eval/${name}.samples.jsonl.gz`;
}

/**
 * Parses the decompressed JSONL text of an evaluation's stored completions, validating every line.
 * @throws RunsError `INVALID_JSON` / `INVALID_RECORD` naming `file:line`, or `NEWER_VERSION`
 */
export function parseEvalSamples(text: string, file = 'eval samples'): EvalSampleRecord[] {
  return parseJsonl(
    text.endsWith('\n') || text === '' ? text : `${text}\n`,
    EvalSampleRecordSchema,
    {
      file,
    },
  ).records;
}
