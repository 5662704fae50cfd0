// Rollouts: the G completions of one prompt at one step side by side (rewards, advantage,
// length, truncation, tokens coloured by relevance on a chosen scale, as text or a table),
// optionally next to the same prompt (same sampleId: fixed probe prompts recur every logged step)
// at another step or in another run.
import type { SampleRecord } from '@atmanrl/runs';
import { useMemo, useState } from 'preact/hooks';
import { Problems } from '../components/problems.js';
import { EvaluatedIn } from '../components/related-runs.js';
import { RunHeader } from '../components/run-header.js';
import { RelevanceLegend, TokenText } from '../components/token-text.js';
import { type RelevanceDomain, scaleDomain } from '../data/color-scale.js';
import { formatRoute, type Route, type ScaleMode } from '../data/route.js';
import {
  groupRollouts,
  isProbe,
  matchingGroup,
  type RolloutGroup,
  sampleSteps,
} from '../data/samples.js';
import {
  type CorrectFilter,
  cotLength,
  defaultGroup,
  type GroupSort,
  groupStats,
  modeOf,
  triageGroups,
} from '../data/triage.js';
import type { SiteSource } from '../source.js';
import { useRun, useRuns } from '../use-run.js';
import { useRunIndex } from '../use-run-index.js';

type RolloutsRoute = Extract<Route, { page: 'rollouts' }>;

function num(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined ? '—' : v.toFixed(digits);
}

interface TokenOptions {
  granularity: 'token' | 'word';
  scale: ScaleMode;
  /** The page's range (every mode but `sample`). */
  domain: RelevanceDomain;
  view: 'text' | 'table';
}

function CompletionCard(props: { sample: SampleRecord; opts: TokenOptions }) {
  const { sample: s, opts } = props;
  const mode = modeOf(s);
  const cot = cotLength(s);
  const domain =
    opts.scale === 'sample'
      ? scaleDomain(
          'fit',
          s.tokens.map((t) => t.relevance),
        )
      : opts.domain;
  return (
    <article
      class="completion"
      aria-label={`Completion ${s.completionIndex}`}
      data-completion={s.completionIndex}
    >
      <header>
        <h4>#{s.completionIndex}</h4>
        <span class={s.correct ? 'badge ok' : 'badge bad'}>
          {s.correct ? '✓ correct' : '✗ wrong'}
        </span>
        {s.truncated ? <span class="badge warn">truncated</span> : null}
        {mode ? (
          <span class="badge mode" data-mode={mode} title="reasoning mode of this CoT">
            {mode}
          </span>
        ) : null}
      </header>
      <dl class="stats">
        <dt>reward</dt>
        <dd>{num(s.reward)}</dd>
        <dt>advantage</dt>
        <dd>{num(s.advantage)}</dd>
        {Object.entries(s.rewards).map(([k, v]) => (
          <>
            <dt key={`t-${k}`}>{k}</dt>
            <dd key={`d-${k}`}>{num(v)}</dd>
          </>
        ))}
        <dt>length</dt>
        <dd>{s.completionTokens} tokens</dd>
        {cot !== null ? (
          <>
            <dt>CoT</dt>
            <dd data-cot={cot}>{cot} tokens</dd>
          </>
        ) : null}
        <dt>answer</dt>
        <dd>
          {s.parsedAnswer ?? <em>none</em>} <span class="gold">(gold {s.gold})</span>
        </dd>
        {s.saliency ? (
          <>
            <dt>mask H</dt>
            <dd>{num(s.saliency.H)}</dd>
          </>
        ) : null}
      </dl>
      {opts.scale === 'sample' && s.tokens.length > 0 ? (
        <p class="sample-range">
          scale [{domain[0].toFixed(3)}, {domain[1].toFixed(3)}]
        </p>
      ) : null}
      {s.tokens.length > 0 ? (
        <TokenText
          tokens={s.tokens}
          granularity={opts.granularity}
          domain={domain}
          view={opts.view}
          label={`Completion ${s.completionIndex}: ${opts.granularity}s with relevance`}
        />
      ) : (
        <pre class="plain">{s.completion}</pre>
      )}
    </article>
  );
}

function GroupView(props: { group: RolloutGroup; opts: TokenOptions; heading: string }) {
  const { group } = props;
  return (
    <section class="group" aria-label={props.heading} data-step={group.step}>
      <h3>{props.heading}</h3>
      <details class="prompt">
        <summary>
          Prompt <code>{group.sampleId}</code>
          {isProbe(group) ? <span class="badge probe">probe</span> : null} · gold answer{' '}
          <strong>{group.gold}</strong>
        </summary>
        <pre>{group.prompt}</pre>
      </details>
      <div class="completions">
        {group.completions.map((s) => (
          <CompletionCard key={s.completionIndex} sample={s} opts={props.opts} />
        ))}
      </div>
    </section>
  );
}

/** The rollouts page. */
export function Rollouts(props: { site: SiteSource; route: RolloutsRoute }) {
  const { site, route } = props;
  const { run, error, following } = useRun(site, route.runId);
  const vsRuns = useRuns(site, route.vs ? [route.vs] : [], { samples: true });
  const vsRun = route.vs ? (vsRuns.get(route.vs) ?? null) : null;
  const index = useRunIndex(site);
  const groups = useMemo(() => groupRollouts(run?.samples ?? []), [run]);
  const vsGroups = useMemo(() => groupRollouts(vsRun?.samples ?? []), [vsRun]);
  const steps = [...groups.keys()];
  const step =
    route.step !== null && groups.has(route.step) ? route.step : (steps[steps.length - 1] ?? null);
  const atStep = step === null ? [] : (groups.get(step) ?? []);
  const [sort, setSort] = useState<GroupSort>('index');
  const [correctFilter, setCorrectFilter] = useState<CorrectFilter>('any');
  const [modeFilter, setModeFilter] = useState<string | null>(null);
  const picked = triageGroups(atStep, { sort, correct: correctFilter, mode: modeFilter });
  const modesAtStep = [...new Set(atStep.flatMap((g) => groupStats(g).modes))].sort();
  // Without a chosen prompt: a group whose completions differ (not 8 identical ones).
  const group =
    atStep.find((g) => g.promptIndex === route.prompt) ??
    defaultGroup(picked.length > 0 ? picked : atStep);
  const compare =
    group && route.compare !== null ? matchingGroup(groups, route.compare, group) : null;
  // The same prompt in another run: same sampleId at this step, else at its nearest step.
  const vsMatch = useMemo(() => {
    if (!group || !vsRun) return null;
    const steps = sampleSteps(vsGroups, group.sampleId);
    if (steps.length === 0) return null;
    const best = steps.reduce((a, b) =>
      Math.abs(b - group.step) < Math.abs(a - group.step) ? b : a,
    );
    return vsGroups.get(best)!.find((g) => g.sampleId === group.sampleId) ?? null;
  }, [group, vsRun, vsGroups]);
  const sameSampleSteps = group ? sampleSteps(groups, group.sampleId) : [];
  const shown = [group, compare?.group ?? null, vsMatch].filter((g): g is RolloutGroup => !!g);
  const domain = scaleDomain(
    route.scale === 'sample' ? 'fit' : route.scale,
    shown.flatMap((g) => g.completions.flatMap((c) => c.tokens.map((t) => t.relevance))),
  );
  const opts: TokenOptions = {
    granularity: route.granularity,
    scale: route.scale,
    domain,
    view: route.view,
  };
  const otherRuns = index.filter((s) => s.id !== route.runId && s.info?.command !== 'eval');
  const go = (patch: Partial<RolloutsRoute>) => {
    window.location.hash = formatRoute({
      ...route,
      step,
      prompt: group?.promptIndex ?? null,
      ...patch,
    });
  };
  const missing: string[] = [];
  if (run && run.samples.length === 0)
    missing.push('No logged rollouts (samples.jsonl is empty or missing).');
  return (
    <main id="main">
      <RunHeader runId={route.runId} run={run} page="rollouts" following={following} />
      <EvaluatedIn site={site} runId={route.runId} />
      {error ? <p class="error">{error}</p> : null}
      {!run && !error ? <p>Loading…</p> : null}
      {run ? <Problems run={run} missing={missing} /> : null}
      {group && step !== null ? (
        <>
          <div class="controls">
            <label class="control">
              Step{' '}
              <select
                value={String(step)}
                onChange={(e) => go({ step: Number((e.target as HTMLSelectElement).value) })}
              >
                {steps.map((s) => (
                  <option key={s} value={String(s)}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <fieldset class="control prompt-pick">
              <legend>Prompt</legend>
              <label>
                Sort{' '}
                <select
                  data-pick="sort"
                  value={sort}
                  onChange={(e) => setSort((e.target as HTMLSelectElement).value as GroupSort)}
                >
                  <option value="index">prompt order</option>
                  <option value="spread">advantage spread (widest first)</option>
                  <option value="correct-asc">number correct (fewest first)</option>
                  <option value="correct-desc">number correct (most first)</option>
                </select>
              </label>{' '}
              <label>
                Correct{' '}
                <select
                  data-pick="correct"
                  value={correctFilter}
                  onChange={(e) => {
                    const v = (e.target as HTMLSelectElement).value as CorrectFilter;
                    setCorrectFilter(v);
                    const first = triageGroups(atStep, { sort, correct: v, mode: modeFilter })[0];
                    if (first) go({ prompt: first.promptIndex });
                  }}
                >
                  <option value="any">any</option>
                  <option value="mixed">some, not all</option>
                  <option value="all">all</option>
                  <option value="none">none</option>
                </select>
              </label>{' '}
              {modesAtStep.length > 0 ? (
                <label>
                  Mode present{' '}
                  <select
                    data-pick="mode"
                    value={modeFilter ?? ''}
                    onChange={(e) => {
                      const v = (e.target as HTMLSelectElement).value || null;
                      setModeFilter(v);
                      const first = triageGroups(atStep, {
                        sort,
                        correct: correctFilter,
                        mode: v,
                      })[0];
                      if (first) go({ prompt: first.promptIndex });
                    }}
                  >
                    <option value="">any</option>
                    {modesAtStep.map((m) => (
                      <option key={m} value={m}>
                        {m}
                      </option>
                    ))}
                  </select>
                </label>
              ) : null}{' '}
              <label>
                Group{' '}
                <select
                  data-pick="group"
                  value={String(group.promptIndex)}
                  onChange={(e) => go({ prompt: Number((e.target as HTMLSelectElement).value) })}
                >
                  {(picked.includes(group) ? picked : [group, ...picked]).map((g) => {
                    const st = groupStats(g);
                    return (
                      <option key={g.promptIndex} value={String(g.promptIndex)}>
                        {g.promptIndex}: {st.correct}/{st.n} correct · spread {st.spread.toFixed(2)}
                        {st.modes.length > 0 ? ` · ${st.modes.join(', ')}` : ''}
                        {st.differ ? '' : ' · identical'}
                        {isProbe(g) ? ' · probe' : ''} · {g.sampleId}
                      </option>
                    );
                  })}
                </select>
              </label>{' '}
              <span class="hint" aria-live="polite">
                {picked.length} of {atStep.length} groups
              </span>
            </fieldset>
            <label class="control">
              Compare with step{' '}
              <select
                value={route.compare === null ? '' : String(route.compare)}
                onChange={(e) => {
                  const v = (e.target as HTMLSelectElement).value;
                  go({ compare: v === '' ? null : Number(v) });
                }}
              >
                <option value="">none</option>
                {steps
                  .filter((s) => s !== step)
                  .map((s) => (
                    <option key={s} value={String(s)}>
                      {s}
                      {sameSampleSteps.includes(s) ? ' (same prompt)' : ''}
                    </option>
                  ))}
              </select>
            </label>
            {otherRuns.length > 0 ? (
              <label class="control">
                Compare with run{' '}
                <select
                  value={route.vs ?? ''}
                  onChange={(e) => {
                    const v = (e.target as HTMLSelectElement).value;
                    go({ vs: v === '' ? null : v });
                  }}
                >
                  <option value="">none</option>
                  {otherRuns.map((o) => (
                    <option key={o.id} value={o.id}>
                      {o.info?.name ?? o.id}
                    </option>
                  ))}
                </select>
              </label>
            ) : null}
            <label class="control">
              Colour scale{' '}
              <select
                value={route.scale}
                onChange={(e) => go({ scale: (e.target as HTMLSelectElement).value as ScaleMode })}
              >
                <option value="fit">fit to data</option>
                <option value="symmetric">symmetric (±max)</option>
                <option value="sample">per completion</option>
                <option value="fixed">fixed [−1.5, 1]</option>
              </select>
            </label>
            <fieldset class="control granularity">
              <legend>View</legend>
              {(['text', 'table'] as const).map((v) => (
                <button
                  key={v}
                  type="button"
                  class="toggle"
                  aria-pressed={route.view === v}
                  onClick={() => go({ view: v })}
                >
                  {v === 'text' ? 'Text' : 'Table'}
                </button>
              ))}
            </fieldset>
            <fieldset class="control granularity">
              <legend>Show</legend>
              {(['token', 'word'] as const).map((g) => (
                <button
                  key={g}
                  type="button"
                  class="toggle"
                  aria-pressed={route.granularity === g}
                  onClick={() => go({ granularity: g })}
                >
                  {g === 'token' ? 'Tokens' : 'Words'}
                </button>
              ))}
            </fieldset>
          </div>
          <RelevanceLegend domain={domain} mode={route.scale} />
          <div class={compare || route.vs ? 'compare' : ''}>
            <GroupView
              group={group}
              opts={opts}
              heading={`Step ${step}, prompt ${group.promptIndex}`}
            />
            {route.compare !== null && !compare ? (
              <p class="missing">Step {route.compare} has no rollouts of this prompt.</p>
            ) : null}
            {compare ? (
              <GroupView
                group={compare.group}
                opts={opts}
                heading={`Step ${compare.group.step}, prompt ${compare.group.promptIndex}${compare.sameSample ? ' (same sample)' : ' (same prompt index, different sample)'}`}
              />
            ) : null}
            {route.vs !== null && vsRun && !vsMatch ? (
              <p class="missing">
                {vsRun.info?.name ?? route.vs} has no rollouts of prompt {group.sampleId}.
              </p>
            ) : null}
            {vsMatch && vsRun ? (
              <GroupView
                group={vsMatch}
                opts={opts}
                heading={`${vsRun.info?.name ?? vsRun.id}: step ${vsMatch.step}, prompt ${vsMatch.promptIndex} (same sample)`}
              />
            ) : null}
          </div>
        </>
      ) : null}
    </main>
  );
}
