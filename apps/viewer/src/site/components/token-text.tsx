// A completion's tokens coloured by relevance, with visible token boundaries and whitespace
// markers; the answer span is boxed and labelled. Clicking a token pins its values (relevance,
// θ, AtMan score where logged); the same values are also offered as a table, which serves
// keyboard and screen-reader users. The token text is a listbox: arrow keys move the pin.
import type { SampleToken } from '@atmanrl/runs';
import { useId, useState } from 'preact/hooks';
import {
  type RelevanceDomain,
  relevanceColor,
  scaledColor,
  scaledTextColor,
  visibleText,
} from '../data/color-scale.js';
import type { ScaleMode } from '../data/route.js';
import { groupTokens, groupWords, type TokenGroup } from '../data/words.js';

/** Optional per-token numbers the trainer may log beside `relevance`. */
function extra(t: SampleToken, key: 'theta' | 'atman'): number | null {
  const v = (t as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const f4 = (v: number | null) => (v === null ? '—' : v.toFixed(4));

function groupTitle(g: TokenGroup): string {
  const head =
    g.relevance === null ? 'no mask (not a CoT token)' : `relevance ${g.relevance.toFixed(4)}`;
  return `${head} · ${g.span}${g.tokenIndices.length > 1 ? ` (mean of ${g.tokenIndices.length} tokens)` : ''}`;
}

/** Tokens (or words) of one completion as coloured text or as a table. */
export function TokenText(props: {
  tokens: readonly SampleToken[];
  granularity: 'token' | 'word';
  domain: RelevanceDomain;
  view?: 'text' | 'table';
  /** Accessible name of the table (e.g. `Completion 2 tokens`). */
  label?: string;
}) {
  const { tokens, domain } = props;
  const [pinned, setPinned] = useState<number | null>(null);
  const idBase = useId();
  const single = (g: TokenGroup, key: 'theta' | 'atman') =>
    g.tokenIndices.length === 1 ? extra(tokens[g.tokenIndices[0]!]!, key) : null;
  const groups = props.granularity === 'word' ? groupWords(tokens) : groupTokens(tokens);
  const hasTheta = tokens.some((t) => extra(t, 'theta') !== null);
  const hasAtman = tokens.some((t) => extra(t, 'atman') !== null);
  if (props.view === 'table') {
    return (
      <div class="table-scroll token-table-wrap">
        <table class="token-table">
          <caption class="sr-only">{props.label ?? 'Tokens'}</caption>
          <thead>
            <tr>
              <th scope="col" class="num">
                #
              </th>
              <th scope="col">{props.granularity === 'word' ? 'word' : 'token'}</th>
              <th scope="col">span</th>
              <th scope="col" class="num">
                relevance
              </th>
              {hasTheta ? (
                <th scope="col" class="num">
                  θ
                </th>
              ) : null}
              {hasAtman ? (
                <th scope="col" class="num">
                  AtMan
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => {
              const mean = (key: 'theta' | 'atman') => {
                const vs = g.tokenIndices
                  .map((i) => extra(tokens[i]!, key))
                  .filter((v): v is number => v !== null);
                return vs.length === 0 ? null : vs.reduce((a, b) => a + b, 0) / vs.length;
              };
              const bg = scaledColor(g.relevance, domain);
              return (
                <tr key={g.tokenIndices[0]} data-index={g.tokenIndices[0]}>
                  <td class="num">{g.tokenIndices.join('–')}</td>
                  <td>
                    <code
                      class="tok"
                      style={
                        bg
                          ? { backgroundColor: bg, color: scaledTextColor(g.relevance, domain) }
                          : undefined
                      }
                    >
                      {visibleText(g.text)}
                    </code>
                  </td>
                  <td>{g.span}</td>
                  <td class="num" data-col="relevance">
                    {f4(g.relevance)}
                  </td>
                  {hasTheta ? <td class="num">{f4(mean('theta'))}</td> : null}
                  {hasAtman ? <td class="num">{f4(mean('atman'))}</td> : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  }
  const segments: { span: SampleToken['span']; groups: TokenGroup[] }[] = [];
  for (const g of groups) {
    const last = segments[segments.length - 1];
    if (last && last.span === g.span) last.groups.push(g);
    else segments.push({ span: g.span, groups: [g] });
  }
  const pin = pinned === null ? null : (groups.find((g) => g.tokenIndices[0] === pinned) ?? null);
  const token = (g: TokenGroup) => {
    const bg = scaledColor(g.relevance, domain);
    const first = g.tokenIndices[0]!;
    return (
      <span
        key={first}
        id={`${idBase}-${first}`}
        role="option"
        tabIndex={-1}
        aria-selected={pinned === first}
        class={`tok span-${g.span}${bg === null ? ' tok-nomask' : ''}${pinned === first ? ' pinned' : ''}`}
        style={
          bg === null
            ? undefined
            : { backgroundColor: bg, color: scaledTextColor(g.relevance, domain) }
        }
        title={groupTitle(g)}
        data-index={first}
        data-relevance={g.relevance === null ? '' : String(g.relevance)}
      >
        {visibleText(g.text)}
      </span>
    );
  };
  const starts = groups.map((g) => g.tokenIndices[0]!);
  // Arrow keys move the pin along the tokens (Home/End jump, Escape unpins).
  const onKeyDown = (e: KeyboardEvent) => {
    const at = pinned === null ? -1 : starts.indexOf(pinned);
    let next: number | null | undefined;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown')
      next = starts[Math.min(at + 1, starts.length - 1)];
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = starts[Math.max(at - 1, 0)];
    else if (e.key === 'Home') next = starts[0];
    else if (e.key === 'End') next = starts[starts.length - 1];
    else if (e.key === 'Escape') next = null;
    else return;
    e.preventDefault();
    setPinned(next ?? null);
  };
  const onClick = (e: MouseEvent) => {
    const el = (e.target as HTMLElement).closest('[data-index]');
    if (!el) return;
    const i = Number(el.getAttribute('data-index'));
    setPinned(pinned === i ? null : i);
  };
  return (
    <>
      <div
        class="tokens"
        role="listbox"
        tabIndex={0}
        aria-label={`${props.label ?? 'Tokens'}: arrow keys move between tokens`}
        aria-activedescendant={pinned === null ? undefined : `${idBase}-${pinned}`}
        onKeyDown={onKeyDown}
        onClick={onClick}
      >
        {segments.map((seg, i) =>
          seg.span === 'answer' ? (
            <span key={`a${i}`} class="answer-span" title="answer span" role="presentation">
              <span class="answer-label" aria-hidden="true">
                answer
              </span>
              {seg.groups.map(token)}
            </span>
          ) : (
            seg.groups.map(token)
          ),
        )}
      </div>
      {pin ? (
        <p class="pinned-values" role="status">
          <strong>
            {props.granularity === 'word' ? 'word' : 'token'} #{pin.tokenIndices.join('–')}{' '}
            <code>{visibleText(pin.text)}</code>
          </strong>{' '}
          ({pin.span}): relevance <span data-col="relevance">{f4(pin.relevance)}</span>
          {hasTheta ? <>, θ {f4(single(pin, 'theta'))}</> : null}
          {hasAtman ? <>, AtMan {f4(single(pin, 'atman'))}</> : null}
          {pin.tokenIndices.length > 1
            ? ` — tokens: ${pin.tokenRelevances.map((r) => f4(r)).join(', ')}`
            : ''}{' '}
          <button type="button" class="unpin" onClick={() => setPinned(null)}>
            Unpin
          </button>
        </p>
      ) : null}
    </>
  );
}

/** The colour legend: the scale in use with its range, and what the colours mean. */
export function RelevanceLegend(props: { domain: RelevanceDomain; mode: ScaleMode }) {
  const [lo, hi] = props.domain;
  const ticks = [lo, lo / 2, 0, hi / 2, hi];
  const pct = (v: number) => ((v - lo) / (hi - lo)) * 100;
  const stops = ticks
    .map((v) => `${scaledColor(v, props.domain) ?? relevanceColor(0)} ${pct(v).toFixed(1)}%`)
    .join(', ');
  const modeText: Record<ScaleMode, string> = {
    fixed: 'fixed range for every sample and step',
    fit: 'fitted to the relevances on this page',
    symmetric: 'symmetric around 0, fitted to the largest |relevance| on this page',
    sample: 'fitted to each completion separately (colours do not compare across completions)',
  };
  return (
    <figure class="legend" aria-label="Relevance colour scale" data-domain={`${lo},${hi}`}>
      <div class="legend-bar" style={{ background: `linear-gradient(to right, ${stops})` }} />
      <div class="legend-ticks">
        {ticks.map((v, i) => (
          <span key={i} style={{ left: `${pct(v)}%` }}>
            {Number(v.toFixed(3))}
          </span>
        ))}
      </div>
      <figcaption>
        Range{' '}
        <strong class="legend-range">
          [{lo.toFixed(3)}, {hi.toFixed(3)}]
        </strong>{' '}
        ({modeText[props.mode]}). Token relevance <code>(min(θ,0) − c)/|c|</code>:{' '}
        <strong class="legend-neg">blue</strong> = pushed down, white = untouched,{' '}
        <strong class="legend-pos">orange</strong> = re-enabled (the answer needs it). Hatched = no
        mask; <code>·</code> = space, <code>↵</code> = newline. Click a token to pin its values, or
        switch to the table for every value.
      </figcaption>
    </figure>
  );
}
