// Validation of one record against its schema, with version checks and file:line messages.
import type { z } from 'zod';
import { RunsError } from './errors.js';
import { SCHEMA_VERSION } from './schemas.js';

/** Where a record came from, for error messages. */
export interface RecordLocation {
  file: string;
  line?: number;
}

function at(where: RecordLocation): string {
  return where.line === undefined ? where.file : `${where.file}:${where.line}`;
}

/**
 * Validates `value` against `schema`, rejecting records from a newer schema version with a clear
 * message. Throws `RunsError` (`NEWER_VERSION` or `INVALID_RECORD`) naming the file and line.
 */
export function validateRecord<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: RecordLocation,
): z.infer<S> {
  const v = (value as { version?: unknown } | null)?.version;
  if (typeof v === 'number' && v > SCHEMA_VERSION) {
    throw new RunsError(
      'NEWER_VERSION',
      `${at(where)}: written by run-format version ${v}, but this reader understands versions up to ${SCHEMA_VERSION}. ` +
        'Upgrade @atmanrl/runs (or the viewer) to read this run.',
      where,
    );
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(record)'}: ${i.message}`)
      .join('; ');
    throw new RunsError('INVALID_RECORD', `${at(where)}: invalid record: ${issues}`, where);
  }
  return result.data;
}
