// What crosses Redis: job envelopes and results as JSON, with the values JSON cannot carry
// (NaN, ±Infinity, -0) tagged as {"$float": "NaN"}, so a result read back is bit-identical to the
// one a worker computed (a NaN loss must stay a NaN loss: the trainer's finite check reads it).
// Leaves out the schemas (schema.ts).

const TAG = '$float';

/** Replaces non-JSON numbers by tagged objects (deep copy). */
export function encodeValue(value: unknown): unknown {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { [TAG]: 'NaN' };
    if (value === Number.POSITIVE_INFINITY) return { [TAG]: 'Infinity' };
    if (value === Number.NEGATIVE_INFINITY) return { [TAG]: '-Infinity' };
    if (Object.is(value, -0)) return { [TAG]: '-0' };
    return value;
  }
  if (Array.isArray(value)) return value.map(encodeValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encodeValue(v);
    return out;
  }
  return value;
}

const DECODED: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
};

/** Inverse of {@link encodeValue} (deep copy); anything else passes through for the schema. */
export function decodeValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeValue);
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    const tag = (value as Record<string, unknown>)[TAG];
    if (keys.length === 1 && typeof tag === 'string' && tag in DECODED) return DECODED[tag];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = decodeValue(v);
    return out;
  }
  return value;
}
