// A completion's tokens coloured by relevance on the shared fixed scale; the answer span is
// boxed and labelled, the exact value is in each token's title.
import type { SampleToken } from '@atmanrl/runs';
import {
  formatRelevance,
  RELEVANCE_DOMAIN,
  RELEVANCE_STOPS,
  relevanceColor,
  relevanceTextColor,
} from '../data/color-scale.js';
import { groupTokens, groupWords, type TokenGroup } from '../data/words.js';

function groupTitle(g: TokenGroup): string {
  const head = `${formatRelevance(g.relevance)} · ${g.span}`;
  if (g.tokenIndices.length === 1) return head;
  const parts = g.tokenRelevances.map((r) => (r === null ? '–' : r.toFixed(4)));
  return `${head} (mean of ${g.tokenIndices.length} tokens: ${parts.join(', ')})`;
}

function Token(props: { group: TokenGroup }) {
  const { group } = props;
  const bg = relevanceColor(group.relevance);
  return (
    <span
      class={`tok span-${group.span}${bg === null ? ' tok-nomask' : ''}`}
      style={
        bg === null
          ? undefined
          : { backgroundColor: bg, color: relevanceTextColor(group.relevance) }
      }
      title={groupTitle(group)}
      data-relevance={group.relevance === null ? '' : String(group.relevance)}
    >
      {group.text}
    </span>
  );
}

/** Tokens (or words) of one completion, split into runs of the same span. */
export function TokenText(props: {
  tokens: readonly SampleToken[];
  granularity: 'token' | 'word';
}) {
  const groups =
    props.granularity === 'word' ? groupWords(props.tokens) : groupTokens(props.tokens);
  const segments: { span: SampleToken['span']; groups: TokenGroup[] }[] = [];
  for (const g of groups) {
    const last = segments[segments.length - 1];
    if (last && last.span === g.span) last.groups.push(g);
    else segments.push({ span: g.span, groups: [g] });
  }
  return (
    <div class="tokens">
      {segments.map((seg, i) =>
        seg.span === 'answer' ? (
          <span key={i} class="answer-span" title="answer span">
            <span class="answer-label" aria-hidden="true">
              answer
            </span>
            {seg.groups.map((g) => (
              <Token key={g.tokenIndices[0]} group={g} />
            ))}
          </span>
        ) : (
          seg.groups.map((g) => <Token key={g.tokenIndices[0]} group={g} />)
        ),
      )}
    </div>
  );
}

/** The colour legend of the relevance scale (same for every sample). */
export function RelevanceLegend() {
  const [lo, hi] = RELEVANCE_DOMAIN;
  const stops = RELEVANCE_STOPS.map(([v]) => {
    const pct = ((v - lo) / (hi - lo)) * 100;
    return `${relevanceColor(v)} ${pct.toFixed(1)}%`;
  }).join(', ');
  return (
    <figure class="legend" aria-label="Relevance colour scale">
      <div class="legend-bar" style={{ background: `linear-gradient(to right, ${stops})` }} />
      <div class="legend-ticks">
        {RELEVANCE_STOPS.map(([v]) => (
          <span key={v} style={{ left: `${((v - lo) / (hi - lo)) * 100}%` }}>
            {v}
          </span>
        ))}
      </div>
      <figcaption>
        Token relevance <code>(min(θ,0) − c)/|c|</code>: <strong class="legend-neg">blue</strong> =
        pushed down (re-enabling it would hurt the answer), white = untouched,{' '}
        <strong class="legend-pos">orange</strong> = re-enabled (the answer needs it). Hatched = no
        mask. One fixed scale for all samples; hover a token for its exact value.
      </figcaption>
    </figure>
  );
}
