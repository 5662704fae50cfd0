// A small Markdown reader for an experiment's REPORT.md, predictions and reading: headings,
// paragraphs, lists, pipe tables, code fences and inline code / bold / italics / links. It builds
// a tree of blocks that the page renders as elements (never as HTML), so a report cannot inject
// markup into the viewer.

/** Inline pieces of a paragraph, list item or table cell. */
export type Inline =
  | { t: 'text'; v: string }
  | { t: 'code'; v: string }
  | { t: 'strong'; c: Inline[] }
  | { t: 'em'; c: Inline[] }
  | { t: 'link'; href: string; c: Inline[] };

/** A block of a Markdown document. */
export type Block =
  | { t: 'heading'; level: number; c: Inline[]; text: string }
  | { t: 'para'; c: Inline[] }
  | { t: 'list'; ordered: boolean; items: Inline[][] }
  | { t: 'table'; head: Inline[][]; rows: Inline[][][] }
  | { t: 'code'; v: string };

/** Parses inline Markdown (code spans first, then links, bold, italics). */
export function parseInline(s: string): Inline[] {
  const out: Inline[] = [];
  let text = '';
  const flush = () => {
    if (text !== '') out.push({ t: 'text', v: text });
    text = '';
  };
  let i = 0;
  while (i < s.length) {
    const ch = s[i]!;
    if (ch === '`') {
      const end = s.indexOf('`', i + 1);
      if (end > i) {
        flush();
        out.push({ t: 'code', v: s.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (ch === '[') {
      const m = /^\[([^\]]+)\]\(([^)\s]+)\)/.exec(s.slice(i));
      if (m) {
        flush();
        out.push({ t: 'link', href: m[2]!, c: parseInline(m[1]!) });
        i += m[0].length;
        continue;
      }
    }
    if (ch === '*' && s[i + 1] === '*') {
      const end = s.indexOf('**', i + 2);
      if (end > i + 2) {
        flush();
        out.push({ t: 'strong', c: parseInline(s.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    if ((ch === '*' || ch === '_') && s[i + 1] !== ch && s[i + 1] !== ' ') {
      const prevWord = i > 0 && /\w/.test(s[i - 1]!);
      const end = s.indexOf(ch, i + 1);
      if (!prevWord && end > i + 1 && !(end + 1 < s.length && /\w/.test(s[end + 1]!))) {
        flush();
        out.push({ t: 'em', c: parseInline(s.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    text += ch;
    i++;
  }
  flush();
  return out;
}

const cells = (line: string): string[] =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

/** Parses a Markdown document into blocks. */
export function parseMarkdown(md: string): Block[] {
  const lines = md.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '') {
      i++;
      continue;
    }
    if (/^```/.test(line)) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !/^```/.test(lines[i]!)) body.push(lines[i++]!);
      i++;
      blocks.push({ t: 'code', v: body.join('\n') });
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      const text = h[2]!.trim();
      blocks.push({ t: 'heading', level: h[1]!.length, c: parseInline(text), text });
      i++;
      continue;
    }
    if (line.trim().startsWith('|') && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1] ?? '')) {
      const head = cells(line).map(parseInline);
      i += 2;
      const rows: Inline[][][] = [];
      while (i < lines.length && lines[i]!.trim().startsWith('|'))
        rows.push(cells(lines[i++]!).map(parseInline));
      blocks.push({ t: 'table', head, rows });
      continue;
    }
    const item = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (item) {
      const ordered = /\d/.test(item[1]!);
      const items: string[] = [];
      while (i < lines.length) {
        const l = lines[i]!;
        const m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(l);
        if (m && /\d/.test(m[1]!) === ordered) items.push(m[2]!);
        else if (l.trim() !== '' && /^\s+/.test(l) && items.length > 0)
          items[items.length - 1] += ` ${l.trim()}`;
        else break;
        i++;
      }
      blocks.push({ t: 'list', ordered, items: items.map(parseInline) });
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      lines[i]!.trim() !== '' &&
      !/^(#{1,6}\s|```|\s*([-*+]|\d+[.)])\s)/.test(lines[i]!) &&
      !(lines[i]!.trim().startsWith('|') && /^\s*\|?\s*:?-{2,}/.test(lines[i + 1] ?? ''))
    )
      para.push(lines[i++]!.trim());
    blocks.push({ t: 'para', c: parseInline(para.join(' ')) });
  }
  return blocks;
}

/**
 * The section of `blocks` under the first heading whose text matches `word`: up to the next
 * heading of the same or a higher level that does not match it (an included predictions file
 * keeps its own `# Predictions …` title inside a `## Predictions` section). `null` when absent.
 */
export function sectionOf(blocks: readonly Block[], word: RegExp): Block[] | null {
  const start = blocks.findIndex((b) => b.t === 'heading' && word.test(b.text));
  if (start < 0) return null;
  const level = (blocks[start] as { level: number }).level;
  let end = start + 1;
  while (end < blocks.length) {
    const b = blocks[end]!;
    if (b.t === 'heading' && b.level <= level && !word.test(b.text)) break;
    end++;
  }
  return blocks.slice(start + 1, end);
}

/** Plain text of inline pieces (for tests and titles). */
export function inlineText(c: readonly Inline[]): string {
  return c.map((x) => (x.t === 'text' || x.t === 'code' ? x.v : inlineText(x.c))).join('');
}
