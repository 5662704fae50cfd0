import { describe, expect, it } from 'vitest';
import {
  type Block,
  type Inline,
  inlineText,
  parseInline,
  parseMarkdown,
  sectionOf,
} from './markdown.js';

const as = <T extends Block['t']>(b: Block | undefined, t: T) => {
  if (b?.t !== t) throw new Error(`expected a ${t} block, got ${b?.t}`);
  return b as Extract<Block, { t: T }>;
};
const texts = (cs: readonly Inline[][]) => cs.map((c) => inlineText(c));

describe('markdown', () => {
  it('parses inline code, bold, italics and links', () => {
    expect(parseInline('a `x*y` **b _c_** [d](https://e) f_g_h')).toEqual([
      { t: 'text', v: 'a ' },
      { t: 'code', v: 'x*y' },
      { t: 'text', v: ' ' },
      {
        t: 'strong',
        c: [
          { t: 'text', v: 'b ' },
          { t: 'em', c: [{ t: 'text', v: 'c' }] },
        ],
      },
      { t: 'text', v: ' ' },
      { t: 'link', href: 'https://e', c: [{ t: 'text', v: 'd' }] },
      { t: 'text', v: ' f_g_h' },
    ]);
  });

  it('parses headings, lists with continuation lines, tables, code and paragraphs', () => {
    const md =
      '# T\n\npara one\nstill one\n\n1. **first**\n   more\n2. second\n\n| a | b |\n|---|---|\n| 1 | `2` |\n\n```sh\nx | y\n```\n- u\n';
    const b = parseMarkdown(md);
    expect(b.map((x) => x.t)).toEqual(['heading', 'para', 'list', 'table', 'code', 'list']);
    expect(inlineText(as(b[1], 'para').c)).toBe('para one still one');
    const list = as(b[2], 'list');
    expect(list.ordered).toBe(true);
    expect(texts(list.items)).toEqual(['first more', 'second']);
    const table = as(b[3], 'table');
    expect(texts(table.head)).toEqual(['a', 'b']);
    expect(texts(table.rows[0]!)).toEqual(['1', '2']);
    expect(b[4]).toEqual({ t: 'code', v: 'x | y' });
  });

  it('cuts a section, keeping sub-headings and included titles that match', () => {
    const b = parseMarkdown(
      '# R\n## Predictions (before)\n# Predictions for x\nP1\n## Further predictions\nP2\n## Results\nR1\n## Reading\nX\n### detail\nY\n',
    );
    const p = sectionOf(b, /predictions/i)!;
    expect(texts(p.filter((x) => x.t === 'para').map((x) => as(x, 'para').c))).toEqual([
      'P1',
      'P2',
    ]);
    const r = sectionOf(b, /^reading/i)!;
    expect(r.map((x) => x.t)).toEqual(['para', 'heading', 'para']);
    expect(sectionOf(b, /nothing/)).toBeNull();
  });
});
