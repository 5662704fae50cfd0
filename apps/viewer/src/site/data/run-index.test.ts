import { listRuns, type RunSource, type SourceEntry } from '@atmanrl/runs';
import { describe, expect, it } from 'vitest';
import { listRunsParallel } from './run-index.js';

/** An in-memory source: paths → file text; folders implied by the paths. */
function memorySource(files: Record<string, string>): RunSource {
  return {
    async readText(p) {
      return files[p] ?? null;
    },
    async readFrom(p, start) {
      return files[p]?.slice(start) ?? null;
    },
    async list(dir) {
      const prefix = dir === '' ? '' : `${dir.replace(/\/$/, '')}/`;
      const out = new Map<string, SourceEntry>();
      for (const p of Object.keys(files)) {
        if (!p.startsWith(prefix)) continue;
        const rest = p.slice(prefix.length).split('/');
        out.set(rest[0]!, { name: rest[0]!, type: rest.length > 1 ? 'directory' : 'file' });
      }
      return [...out.values()];
    },
  };
}

const info = (id: string, createdAt: string) =>
  JSON.stringify({
    version: 1,
    id,
    command: 'train',
    createdAt,
    updatedAt: createdAt,
    status: 'finished',
    config: {},
    seed: 0,
    backend: { name: 'cpu' },
    versions: {},
  });

describe('listRunsParallel', () => {
  it('finds the same runs as listRuns, flat and nested (experiment layout)', async () => {
    const src = memorySource({
      'results.json': '{}',
      'r1/run.json': info('r1', '2026-01-01'),
      'r1/eval/e.json': '{}',
      'runs/A-s0/r2/run.json': info('r2', '2026-01-03'),
      'runs/A-s0/r2/checkpoints/step-1/x': '',
      'runs/B-s0/r3/run.json': info('r3', '2026-01-02'),
      'runs/B-s0/notes/readme.txt': '',
      'sft-model/config.json': '{}',
      'broken/run.json': '{',
    });
    const mine = await listRunsParallel(src, 3);
    const theirs = await listRuns(src, '', 3);
    expect(mine.map((r) => r.id)).toEqual(theirs.map((r) => r.id));
    expect(mine.map((r) => r.id)).toEqual(['runs/A-s0/r2', 'runs/B-s0/r3', 'r1', 'broken']);
    expect(mine).toEqual(theirs);
  });

  it('finds runs at any depth (a folder of experiments: 4 levels), newest first', async () => {
    const src = memorySource({
      'exp1/results.json': '{}',
      'exp1/runs/A-s0/r1/run.json': info('r1', '2026-01-01'),
      'exp2/runs/B-s0/r2/run.json': info('r2', '2026-01-02'),
      'exp2/sft-model/model.safetensors': '',
      'a/b/c/d/e/f/r3/run.json': info('r3', '2026-01-03'),
    });
    const ids = (await listRunsParallel(src, 8)).map((r) => r.id);
    expect(ids).toEqual(['a/b/c/d/e/f/r3', 'exp2/runs/B-s0/r2', 'exp1/runs/A-s0/r1']);
    // depth bounds the search: r3 is 7 folders deep
    expect((await listRunsParallel(src, 6)).map((r) => r.id)).not.toContain('a/b/c/d/e/f/r3');
  });

  it("lists at most maxFolders folders, and never a model folder's insides", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++) files[`f${String(i).padStart(2, '0')}/x/y.txt`] = '';
    files['m/model.safetensors'] = '';
    files['m/inner/run.json'] = info('hidden', '2026-01-01');
    const listed: string[] = [];
    const src = memorySource(files);
    const counting: RunSource = {
      ...src,
      list: (d) => {
        listed.push(d);
        return src.list(d);
      },
    };
    expect(await listRunsParallel(counting, 8, 20)).toEqual([]);
    // the root, then 20 folders' listings (a folder counts once, whether or not it holds runs)
    expect(listed.length).toBeLessThanOrEqual(21);
    listed.length = 0;
    expect(await listRunsParallel(counting, 8)).toEqual([]);
    expect(listed).not.toContain('m/inner');
  });
});
