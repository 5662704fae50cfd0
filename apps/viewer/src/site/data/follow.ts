// Following a growing JSONL file that may also be rewritten: a resume truncates metrics.jsonl
// back to its checkpoint and appends from there. Each poll re-reads the last complete line it
// consumed and checks it is still there; when it is not (file shorter, or different bytes at
// that place), the follower reports `truncated` so the caller reloads the run.
import { parseJsonl, type ReadProblem, type RunSource } from '@atmanrl/runs';

/** A record schema as `parseJsonl` takes it (zod is not a dependency of the site itself). */
type Schema = Parameters<typeof parseJsonl>[1];
type RecordOf<S extends Schema> = ReturnType<typeof parseJsonl<S>>['records'][number];

/** Result of one poll. */
export interface FollowResult<T> {
  records: T[];
  problems: ReadProblem[];
  /** The file no longer starts with what was read before: reload it from the beginning. */
  truncated: boolean;
}

const encoder = new TextEncoder();

/** Follows `path` like `followJsonl`, detecting truncation and rewrites (see file comment). */
export function followJsonlChecked<S extends Schema>(
  source: RunSource,
  path: string,
  schema: S,
): { poll(): Promise<FollowResult<RecordOf<S>>> } {
  let offset = 0;
  let line = 1;
  /** The last complete line consumed, with its `\n` (empty before the first). */
  let anchor = '';
  return {
    async poll() {
      const anchorBytes = encoder.encode(anchor).length;
      const text = await source.readFrom(path, offset - anchorBytes);
      if (text === null) {
        // The file vanished: truncated if we had read something from it.
        return { records: [], problems: [], truncated: offset > 0 };
      }
      if (!text.startsWith(anchor)) return { records: [], problems: [], truncated: true };
      const fresh = text.slice(anchor.length);
      if (fresh === '') return { records: [], problems: [], truncated: false };
      const result = parseJsonl(fresh, schema, { file: path, firstLine: line, mode: 'tolerant' });
      if (result.consumedBytes > 0) {
        const complete = fresh.slice(0, fresh.lastIndexOf('\n') + 1);
        line += complete.split('\n').length - 1;
        offset += result.consumedBytes;
        const lines = complete.slice(0, -1).split('\n');
        anchor = `${lines[lines.length - 1]!}\n`;
      }
      return { records: result.records, problems: result.problems, truncated: false };
    },
  };
}
