// Renders the blocks of data/markdown.ts as elements (never as HTML).
import type { Block, Inline } from '../data/markdown.js';

function inline(c: readonly Inline[]) {
  return c.map((x, i) => {
    switch (x.t) {
      case 'text':
        return x.v;
      case 'code':
        return <code key={i}>{x.v}</code>;
      case 'strong':
        return <strong key={i}>{inline(x.c)}</strong>;
      case 'em':
        return <em key={i}>{inline(x.c)}</em>;
      case 'link':
        // Only web links are followed; a path inside the report is shown as its text.
        return /^https?:\/\//.test(x.href) ? (
          <a key={i} href={x.href} rel="noopener noreferrer" target="_blank">
            {inline(x.c)}
          </a>
        ) : (
          <span key={i}>{inline(x.c)}</span>
        );
      default:
        return null;
    }
  });
}

/** Markdown blocks as a document fragment; headings start at `level` (default 3). */
export function Markdown(props: { blocks: readonly Block[]; level?: number }) {
  const base = props.level ?? 3;
  const levels = props.blocks
    .filter((b) => b.t === 'heading')
    .map((b) => (b as { level: number }).level);
  const top = levels.length > 0 ? Math.min(...levels) : 1;
  return (
    <>
      {props.blocks.map((b, i) => {
        switch (b.t) {
          case 'heading': {
            const n = Math.min(6, base + b.level - top);
            const H = `h${n}` as 'h3';
            return <H key={i}>{inline(b.c)}</H>;
          }
          case 'para':
            return <p key={i}>{inline(b.c)}</p>;
          case 'list': {
            const L = b.ordered ? 'ol' : 'ul';
            return (
              <L key={i}>
                {b.items.map((it, j) => (
                  <li key={j}>{inline(it)}</li>
                ))}
              </L>
            );
          }
          case 'table':
            return (
              <div key={i} class="table-scroll">
                <table class="md-table">
                  <thead>
                    <tr>
                      {b.head.map((c, j) => (
                        <th key={j} scope="col">
                          {inline(c)}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {b.rows.map((r, j) => (
                      <tr key={j}>
                        {r.map((c, k) => (
                          <td key={k}>{inline(c)}</td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            );
          case 'code':
            return (
              <pre key={i}>
                <code>{b.v}</code>
              </pre>
            );
          default:
            return null;
        }
      })}
    </>
  );
}
