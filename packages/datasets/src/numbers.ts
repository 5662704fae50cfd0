// Numeric answer normalisation for GSM8K-style answers: "$1,234.50" -> "1234.5", "18.0" -> "18".
// Deliberately leaves out fractions ("1/2"), scientific notation and spelled-out numbers.

/**
 * One number token as a model writes it: optional sign, optional `$`, digits with optional
 * thousands commas, optional decimals; or a bare decimal like `.5`.
 */
export const NUMBER_PATTERN =
  /(?:[-\u2212]\s?)?(?:\$\s?)?[-\u2212]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|[-\u2212]?\$?\.\d+/g;
/[-\u2212]?\s?\$?\s?[-\u2212]?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|[-\u2212]?\$?\.\d+/g;

/**
 * Normalises a number written by a person or a model to a canonical decimal string:
 * commas, `$`, `%`, a trailing period and surrounding space removed, leading zeros and trailing
 * fractional zeros dropped (`"18.0"` and `"018"` both give `"18"`), `-0` becomes `"0"`,
 * the Unicode minus sign is accepted. Returns null when `raw` is not a single number.
 *
 * @example normalizeNumber('$1,234.50.') // '1234.5'
 */
export function normalizeNumber(raw: string): string | null {
  let s = raw.trim().replace(/\u2212/g, '-');
  s = s.replace(/\.$/, '').replace(/%$/, '').trim();
  let negative = false;
  // Sign and currency in either order: "-$5", "$-5", "- $ 5".
  for (;;) {
    if (s.startsWith('-')) {
      negative = !negative;
      s = s.slice(1).trimStart();
    } else if (s.startsWith('$')) {
      s = s.slice(1).trimStart();
    } else if (s.startsWith('+')) {
      s = s.slice(1).trimStart();
    } else break;
  }
  if (/^\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, '');
  const m = /^(\d*)(?:\.(\d*))?$/.exec(s);
  if (!m || s === '' || s === '.') return null;
  const intPart = (m[1] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const fracPart = (m[2] ?? '').replace(/0+$/, '');
  if (m[1] === '' && (m[2] ?? '') === '') return null;
  const body = fracPart === '' ? intPart : `${intPart}.${fracPart}`;
  return negative && body !== '0' ? `-${body}` : body;
}

/** True when two numeric strings denote the same number after {@link normalizeNumber}. */
export function numbersEqual(a: string, b: string): boolean {
  const na = normalizeNumber(a);
  return na !== null && na === normalizeNumber(b);
}

/** Finds number tokens in `text` with their character ranges (start of digits/sign to end). */
export function findNumbers(text: string): { raw: string; start: number; end: number }[] {
  const out: { raw: string; start: number; end: number }[] = [];
  for (const m of text.matchAll(NUMBER_PATTERN)) {
    let raw = m[0];
    let start = m.index;
    // A minus glued to a preceding word or digit ("2021-22", "x-5") is a hyphen, not a sign.
    const prev = start > 0 ? (text[start - 1] as string) : ' ';
    if ((raw.startsWith('-') || raw.startsWith('\u2212')) && /[\w)]/.test(prev)) {
      raw = raw.slice(1);
      start += 1;
    }
    out.push({ raw, start, end: m.index + m[0].length });
  }
  return out;
}
