// What is missing or broken in a run, as the reader reported it (file:line and a message).
import type { LoadedRun } from '@atmanrl/runs';

/**
 * The reader's problems that are real for this run: an eval run has no metrics.jsonl or
 * samples.jsonl by design, so their absence is not reported for it.
 */
export function runProblems(run: LoadedRun): LoadedRun['problems'] {
  if (run.info?.command !== 'eval') return run.problems;
  const optional = new Set([`${run.id}/metrics.jsonl`, `${run.id}/samples.jsonl`]);
  return run.problems.filter((p) => !(p.code === 'NOT_FOUND' && optional.has(p.file)));
}

/** Lists the run's problems plus the pieces a page needs but the run does not have. */
export function Problems(props: { run: LoadedRun; missing?: string[] }) {
  const problems = runProblems(props.run);
  const missing = props.missing ?? [];
  if (problems.length === 0 && missing.length === 0) return null;
  return (
    <section class="problems" aria-labelledby="problems-title">
      <h2 id="problems-title">Incomplete data</h2>
      <ul>
        {missing.map((m) => (
          <li key={m} class="missing">
            {m}
          </li>
        ))}
        {problems.map((p) => (
          <li key={`${p.file}:${p.line}:${p.code}`} data-code={p.code}>
            <code>
              {p.file}
              {p.line > 0 ? `:${p.line}` : ''}
            </code>{' '}
            {p.message}
          </li>
        ))}
      </ul>
    </section>
  );
}
