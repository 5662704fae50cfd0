// Reads a parquet file into row objects with hyparquet (pure JS; snappy built in).

import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';

/** All rows of a parquet file as plain objects (INT64 columns arrive as bigint). */
export async function readParquetRows(path: string): Promise<Record<string, unknown>[]> {
  const file = await asyncBufferFromFile(path);
  return (await parquetReadObjects({ file })) as Record<string, unknown>[];
}

/** Converts a parquet integer (number or bigint) to a JS number, or null. */
export function toInt(value: unknown): number | null {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  return null;
}
