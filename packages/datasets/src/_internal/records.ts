// Bad-record policy shared by the loaders: throw with file:line, or skip and report.

import { DatasetError } from '../errors.js';
import type { Logger, OnError, SkippedRecord } from '../types.js';

/** Applies `onError` to one bad record: throws a BAD_RECORD error or records it as skipped. */
export function reportBadRecord(
  policy: OnError,
  skipped: SkippedRecord[],
  file: string,
  line: number,
  message: string,
  logger?: Logger,
): void {
  if (policy === 'throw') {
    throw new DatasetError(
      'BAD_RECORD',
      `${message} (pass onError: 'skip' to skip and count such records)`,
      { location: { file, line } },
    );
  }
  skipped.push({ file, line, message });
  logger?.warn(`${file}:${line}: skipped: ${message}`);
}
