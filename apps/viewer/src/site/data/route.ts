// Hash routes of the site (hash routing works from file:// and needs no server rewrites).
//   #/                                  runs list
//   #/run/<id>?with=<id2>,<id3>         run overview (curves; other runs overlaid)
//   #/run/<id>/rollouts?step=&prompt=&compare=&gran=token|word
//   #/run/<id>/eval

/** A parsed route. */
export type Route =
  | { page: 'runs' }
  | { page: 'overview'; runId: string; with: string[] }
  | {
      page: 'rollouts';
      runId: string;
      step: number | null;
      prompt: number | null;
      compare: number | null;
      granularity: 'token' | 'word';
    }
  | { page: 'eval'; runId: string };

function int(v: string | null): number | null {
  if (v === null || v === '' || !/^\d+$/.test(v)) return null;
  return Number(v);
}

/** Parses `location.hash` (with or without the leading `#`). Unknown routes give the runs list. */
export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '');
  const q = h.indexOf('?');
  const path = q < 0 ? h : h.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
  const parts = path.split('/').filter((p) => p !== '');
  if (parts[0] !== 'run' || parts[1] === undefined) return { page: 'runs' };
  let runId: string;
  try {
    runId = decodeURIComponent(parts[1]);
  } catch {
    return { page: 'runs' };
  }
  const sub = parts[2];
  if (sub === 'rollouts') {
    return {
      page: 'rollouts',
      runId,
      step: int(params.get('step')),
      prompt: int(params.get('prompt')),
      compare: int(params.get('compare')),
      granularity: params.get('gran') === 'word' ? 'word' : 'token',
    };
  }
  if (sub === 'eval') return { page: 'eval', runId };
  // Split the raw value before decoding so run ids may contain an (encoded) comma.
  const rawWith = (q < 0 ? '' : h.slice(q + 1)).split('&').find((p) => p.startsWith('with='));
  const withIds = (rawWith?.slice(5) ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { page: 'overview', runId, with: withIds };
}

/** Formats a route as a hash (`#/…`); the inverse of {@link parseRoute}. */
export function formatRoute(route: Route): string {
  if (route.page === 'runs') return '#/';
  const base = `#/run/${encodeURIComponent(route.runId)}`;
  if (route.page === 'eval') return `${base}/eval`;
  if (route.page === 'overview') {
    return route.with.length === 0
      ? base
      : `${base}?with=${route.with.map(encodeURIComponent).join(',')}`;
  }
  const params = new URLSearchParams();
  if (route.step !== null) params.set('step', String(route.step));
  if (route.prompt !== null) params.set('prompt', String(route.prompt));
  if (route.compare !== null) params.set('compare', String(route.compare));
  if (route.granularity === 'word') params.set('gran', 'word');
  const qs = params.toString();
  return `${base}/rollouts${qs ? `?${qs}` : ''}`;
}
