// Hash routes of the site (hash routing works from file:// and needs no server rewrites).
//   #/                                  runs list (and the experiment or experiments of the root)
//   #/exp/<folder>                      an experiment folder under the root: its page and runs
//   #/run/<id>?with=<id2>,<id3>         run overview (curves; other runs overlaid)
//   #/run/<id>/rollouts?step=&prompt=&compare=&vs=<id2>&gran=token|word&scale=&view=
//   #/run/<id>/eval?with=<id2>,<id3>    evaluation (other runs' reports compared)
//   #/run/<id>/saliency?with=<id2>      saliency aggregated per step (other runs overlaid)

/** A parsed route. */
export type Route =
  /** `dir`: an experiment folder under the root (its runs only); absent for the root. */
  | { page: 'runs'; dir?: string }
  | { page: 'overview'; runId: string; with: string[] }
  | {
      page: 'rollouts';
      runId: string;
      step: number | null;
      prompt: number | null;
      compare: number | null;
      /** Another run whose rollouts of the same prompt are shown beside (by sampleId). */
      vs: string | null;
      granularity: 'token' | 'word';
      /** Colour scale mode of the token view. */
      scale: ScaleMode;
      /** Tokens as coloured text or as a table. */
      view: 'text' | 'table';
    }
  | { page: 'eval'; runId: string; with: string[] }
  /** Saliency aggregated over each logged step's rollouts (other runs overlaid). */
  | { page: 'saliency'; runId: string; with: string[] };

/** Colour scale modes of the token view (see color-scale.ts). */
export type ScaleMode = 'fixed' | 'fit' | 'symmetric' | 'sample';

const SCALE_MODES: readonly ScaleMode[] = ['fixed', 'fit', 'symmetric', 'sample'];

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
  if (parts[0] === 'exp' && parts[1] !== undefined) {
    try {
      const dir = decodeURIComponent(parts[1]).replace(/^\/+|\/+$/g, '');
      return dir === '' ? { page: 'runs' } : { page: 'runs', dir };
    } catch {
      return { page: 'runs' };
    }
  }
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
      vs: params.get('vs') || null,
      granularity: params.get('gran') === 'word' ? 'word' : 'token',
      scale: SCALE_MODES.find((m) => m === params.get('scale')) ?? 'fit',
      view: params.get('view') === 'table' ? 'table' : 'text',
    };
  }
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
  if (sub === 'eval') return { page: 'eval', runId, with: withIds };
  if (sub === 'saliency') return { page: 'saliency', runId, with: withIds };
  return { page: 'overview', runId, with: withIds };
}

/** Formats a route as a hash (`#/…`); the inverse of {@link parseRoute}. */
export function formatRoute(route: Route): string {
  if (route.page === 'runs') return route.dir ? `#/exp/${encodeURIComponent(route.dir)}` : '#/';
  const base = `#/run/${encodeURIComponent(route.runId)}`;
  if (route.page === 'overview' || route.page === 'eval' || route.page === 'saliency') {
    const path = route.page === 'overview' ? base : `${base}/${route.page}`;
    return route.with.length === 0
      ? path
      : `${path}?with=${route.with.map(encodeURIComponent).join(',')}`;
  }
  const params = new URLSearchParams();
  if (route.step !== null) params.set('step', String(route.step));
  if (route.prompt !== null) params.set('prompt', String(route.prompt));
  if (route.compare !== null) params.set('compare', String(route.compare));
  if (route.vs !== null) params.set('vs', route.vs);
  if (route.granularity === 'word') params.set('gran', 'word');
  if (route.scale !== 'fit') params.set('scale', route.scale);
  if (route.view === 'table') params.set('view', 'table');
  const qs = params.toString();
  return `${base}/rollouts${qs ? `?${qs}` : ''}`;
}

/** The rollouts page of a run with default options. */
export function rolloutsRoute(runId: string): Extract<Route, { page: 'rollouts' }> {
  return {
    page: 'rollouts',
    runId,
    step: null,
    prompt: null,
    compare: null,
    vs: null,
    granularity: 'token',
    scale: 'fit',
    view: 'text',
  };
}
