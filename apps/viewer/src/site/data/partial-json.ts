// Reads the leading top-level members of a JSON object from a prefix of its text, so the runs
// list can take an eval report's `summary` from the first few kilobytes of eval.json instead of
// downloading every curve point and per-item record.

/** Members read from a prefix: each complete `key: value`, and whether the object ended. */
export interface PrefixMembers {
  values: Record<string, unknown>;
  /** True when the closing `}` of the object was inside the prefix (nothing was cut off). */
  complete: boolean;
}

/** Index just past the JSON string starting at `i` (a `"`), or -1 if the text ends first. */
function skipString(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text[j];
    if (c === '\\') j++;
    else if (c === '"') return j + 1;
  }
  return -1;
}

/** Index just past the JSON value starting at `i`, or -1 if the text ends first. */
function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return skipString(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') {
        j = skipString(text, j) - 1;
        if (j < 0) return -1;
      } else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  // number, true, false, null: up to the next delimiter (which must be inside the text)
  const m = /[,}\]\s]/.exec(text.slice(i));
  return m ? i + m.index : -1;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i]!)) i++;
  return i;
}

/**
 * Parses the members of the top-level object in `prefix` up to the first one that is cut off.
 * Throws `SyntaxError` when the text is not a JSON object.
 */
export function readPrefixMembers(prefix: string): PrefixMembers {
  const values: Record<string, unknown> = {};
  let i = skipWs(prefix, 0);
  if (prefix[i] !== '{') throw new SyntaxError('not a JSON object');
  i = skipWs(prefix, i + 1);
  if (prefix[i] === '}') return { values, complete: true };
  while (i < prefix.length) {
    if (prefix[i] !== '"') throw new SyntaxError(`expected a key at offset ${i}`);
    const keyEnd = skipString(prefix, i);
    if (keyEnd < 0) break;
    const key = JSON.parse(prefix.slice(i, keyEnd)) as string;
    i = skipWs(prefix, keyEnd);
    if (i >= prefix.length) break;
    if (prefix[i] !== ':') throw new SyntaxError(`expected ":" at offset ${i}`);
    i = skipWs(prefix, i + 1);
    if (i >= prefix.length) break;
    const end = skipValue(prefix, i);
    if (end < 0) break;
    values[key] = JSON.parse(prefix.slice(i, end));
    i = skipWs(prefix, end);
    if (prefix[i] === ',') i = skipWs(prefix, i + 1);
    else if (prefix[i] === '}') return { values, complete: true };
    else if (i < prefix.length) throw new SyntaxError(`expected "," or "}" at offset ${i}`);
  }
  return { values, complete: false };
}
