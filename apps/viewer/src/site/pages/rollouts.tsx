// Rollouts: the G completions of one prompt at one step side by side (rewards, advantage,
// length, truncation, tokens coloured by relevance), optionally next to the same prompt at
// another step.
import type { SampleRecord } from '@atmanrl/runs';
import { useMemo } from 'preact/hooks';
import { Problems } from '../components/problems.js';
import { RunHeader } from '../components/run-header.js';
import { RelevanceLegend, TokenText } from '../components/token-text.js';
import { formatRoute, type Route } from '../data/route.js';
import { groupRollouts, matchingGroup, type RolloutGroup } from '../data/samples.js';
import type { SiteSource } from '../source.js';
import { useRun } from '../use-run.js';

type RolloutsRoute = Extract<Route, { page: 'rollouts' }>;

function num(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined ? '—' : v.toFixed(digits);
}

function CompletionCard(props: { sample: SampleRecord; granularity: 'token' | 'word' }) {
  const { sample: s, granularity } = props;
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
      {s.tokens.length > 0 ? (
        <TokenText tokens={s.tokens} granularity={granularity} />
      ) : (
        <pre class="plain">{s.completion}</pre>
      )}
    </article>
  );
}

function GroupView(props: { group: RolloutGroup; granularity: 'token' | 'word'; heading: string }) {
  const { group } = props;
  return (
    <section class="group" aria-label={props.heading} data-step={group.step}>
      <h3>{props.heading}</h3>
      <details class="prompt">
        <summary>
          Prompt <code>{group.sampleId}</code> · gold answer <strong>{group.gold}</strong>
        </summary>
        <pre>{group.prompt}</pre>
      </details>
      <div class="completions">
        {group.completions.map((s) => (
          <CompletionCard key={s.completionIndex} sample={s} granularity={props.granularity} />
        ))}
      </div>
    </section>
  );
}

/** The rollouts page. */
export function Rollouts(props: { site: SiteSource; route: RolloutsRoute }) {
  const { site, route } = props;
  const { run, error, following } = useRun(site, route.runId);
  const groups = useMemo(() => groupRollouts(run?.samples ?? []), [run]);
  const steps = [...groups.keys()];
  const step =
    route.step !== null && groups.has(route.step) ? route.step : (steps[steps.length - 1] ?? null);
  const atStep = step === null ? [] : (groups.get(step) ?? []);
  const group = atStep.find((g) => g.promptIndex === route.prompt) ?? atStep[0] ?? null;
  const compare =
    group && route.compare !== null ? matchingGroup(groups, route.compare, group) : null;
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
            <label class="control">
              Prompt{' '}
              <select
                value={String(group.promptIndex)}
                onChange={(e) => go({ prompt: Number((e.target as HTMLSelectElement).value) })}
              >
                {atStep.map((g) => (
                  <option key={g.promptIndex} value={String(g.promptIndex)}>
                    {g.promptIndex}: {g.sampleId}
                  </option>
                ))}
              </select>
            </label>
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
                    </option>
                  ))}
              </select>
            </label>
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
          <RelevanceLegend />
          <div class={compare ? 'compare' : ''}>
            <GroupView
              group={group}
              granularity={route.granularity}
              heading={`Step ${step}, prompt ${group.promptIndex}`}
            />
            {route.compare !== null && !compare ? (
              <p class="missing">Step {route.compare} has no rollouts of this prompt.</p>
            ) : null}
            {compare ? (
              <GroupView
                group={compare.group}
                granularity={route.granularity}
                heading={`Step ${compare.group.step}, prompt ${compare.group.promptIndex}${compare.sameSample ? ' (same sample)' : ' (same prompt index, different sample)'}`}
              />
            ) : null}
          </div>
        </>
      ) : null}
    </main>
  );
}
