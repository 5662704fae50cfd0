// `--model org/name[@revision]` as `from_pretrained` resolves it: the Hugging Face cache (Python's
// layout included), else a download into it from a loopback Hub (test/loopback-hub.ts). Covers
// cold/warm cache, offline, gated 401/403, an interrupted transfer that resumes (in-process and
// with the CLI killed mid-download), a corrupted byte, two processes at once, and
// `atmanrl train --model test/tiny` end to end. No test reaches the network.
import { spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import {
  HubError,
  loadModel,
  type ResolvePretrainedOptions,
  resolvePretrained,
  SafetensorsFile,
  writeSafetensors,
} from '@atmanrl/model/node';
import { RunInfoSchema } from '@atmanrl/runs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  downloadReporter,
  experimentModelArg,
  formatBytes,
  resolveModelDir,
} from '../src/_internal/model-source.js';
import type { CliIO } from '../src/cli-core.js';
import { UsageError } from '../src/errors.js';
import { captureIO, tempDir, tinyModelDir, tinyTrainFlags } from './helpers.js';
import {
  etagOf,
  filesOfFolder,
  gitBlobOid,
  type HubFile,
  type LoopbackHub,
  sha256,
  startLoopbackHub,
  writePythonCache,
} from './loopback-hub.js';

const REPO = 'test/tiny';
const FOLDER = 'models--test--tiny';
const cli = resolve(import.meta.dirname, '..', 'dist', 'cli.js');
const WEIGHTS = 'model.safetensors';

let modelFiles: HubFile[];
/** The served repository: the tiny model plus files that must never be downloaded. */
let repoFiles: HubFile[];

beforeAll(async () => {
  modelFiles = filesOfFolder(await tinyModelDir(7));
  repoFiles = [
    ...modelFiles,
    { path: 'pytorch_model.bin', content: Buffer.alloc(4096, 1), lfs: true },
    { path: 'original/consolidated.00.pth', content: Buffer.alloc(4096, 2), lfs: true },
    { path: 'README.md', content: Buffer.from('# tiny\n'), lfs: false },
  ];
}, 60_000);

const servers: LoopbackHub[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function hub(options: Partial<Parameters<typeof startLoopbackHub>[0]> = {}) {
  const s = await startLoopbackHub({ repo: REPO, files: repoFiles, ...options });
  servers.push(s);
  return s;
}

/** HF_* environment of a fresh cache (and a fresh HF_HOME, so no real token file is read). */
function hfEnv(endpoint: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = tempDir('hf-home-');
  return { HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_ENDPOINT: endpoint, ...extra };
}

const resolveIn = (env: NodeJS.ProcessEnv, model = REPO, o: ResolvePretrainedOptions = {}) =>
  resolvePretrained(model, { env, ...o });

async function rejection(p: Promise<unknown>): Promise<HubError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(HubError);
  return e as HubError;
}

/** Requests for a file's content (the client's 1-byte `bytes=0-0` probes excluded). */
const transfers = (s: LoopbackHub, file: string) =>
  s.requests.filter(
    (r) => r.path.endsWith(`/resolve/${s.commit}/${file}`) && r.range !== 'bytes=0-0',
  );

const MODEL_FILE_NAMES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  WEIGHTS,
];

describe('resolvePretrained against a loopback Hub', () => {
  it('cold: downloads only the model files into the Python layout, checked, and records their sha256', async () => {
    const s = await hub();
    const env = hfEnv(s.url);
    const progress: string[] = [];
    const r = await resolveIn(env, REPO, {
      onProgress: (p) => {
        if (p.phase !== 'data') progress.push(`${p.phase} ${p.file}`);
      },
    });
    const folder = join(env.HF_HUB_CACHE!, FOLDER);
    expect(r.dir).toBe(join(folder, 'snapshots', s.commit));
    expect(readFileSync(join(folder, 'refs', 'main'), 'utf8')).toBe(s.commit);
    expect(r.downloaded.sort()).toEqual([...MODEL_FILE_NAMES].sort());
    // never *.bin / *.pth / README, never a sub-folder
    const asked = new Set(
      s.requests.map((q) => q.path.split('/resolve/')[1]?.split('/').slice(1).join('/')),
    );
    expect(asked.has('pytorch_model.bin')).toBe(false);
    expect(asked.has('original/consolidated.00.pth')).toBe(false);
    expect(asked.has('README.md')).toBe(false);
    for (const f of modelFiles) {
      // snapshots/<commit>/<file> -> ../../blobs/<etag>: sha256 for LFS, git blob oid otherwise
      const link = join(r.dir, f.path);
      expect(lstatSync(link).isSymbolicLink()).toBe(true);
      expect(readlinkSync(link)).toBe(join('..', '..', 'blobs', etagOf(f)));
      expect(readFileSync(link).equals(f.content)).toBe(true);
      expect(r.source!.files[f.path]).toBe(sha256(f.content));
    }
    expect(etagOf(modelFiles.find((f) => f.path === 'config.json')!)).toBe(
      gitBlobOid(modelFiles.find((f) => f.path === 'config.json')!.content),
    );
    expect(r.source).toMatchObject({ id: REPO, revision: s.commit });
    expect(Object.keys(r.source!.files).sort()).toEqual([...MODEL_FILE_NAMES].sort());
    expect(readdirSync(join(folder, 'blobs')).some((b) => b.endsWith('.incomplete'))).toBe(false);
    expect(progress).toContain(`start ${WEIGHTS}`);
    expect(progress).toContain(`done ${WEIGHTS}`);
    // the record is what run.json's optional modelSource accepts
    const runJson = {
      version: 1,
      id: 'r',
      command: 'train',
      createdAt: 'x',
      updatedAt: 'x',
      status: 'running',
      config: {},
      seed: 0,
      backend: { name: 'cpu' },
      versions: {},
      modelSource: r.source,
    };
    expect(RunInfoSchema.parse(runJson).modelSource).toEqual(r.source);
    expect(() =>
      RunInfoSchema.parse({ ...runJson, modelSource: { ...r.source, revision: 'main' } }),
    ).toThrow();
    // and the model loads from the snapshot
    const m = await loadModel(r.dir, { trainable: false });
    expect(m.config.hidden_size).toBe(16);
    m.dispose();
  });

  it('warm: a complete cached revision is used with no request at all', async () => {
    const s = await hub();
    const env = hfEnv(s.url);
    const first = await resolveIn(env);
    const before = s.requests.length;
    const again = await resolveIn(env);
    expect(s.requests.length).toBe(before);
    expect(again).toEqual({ ...first, downloaded: [] });
  });

  it('uses a cache written by Python (relative symlinks into blobs/) with no network', async () => {
    const home = tempDir('hf-home-');
    const commit = 'a'.repeat(40);
    writePythonCache(join(home, 'hub'), REPO, commit, modelFiles);
    // port 9 on loopback (discard) is closed: any request would fail
    const env = { HF_HOME: home, HF_ENDPOINT: 'http://127.0.0.1:9' };
    const r = await resolveIn(env);
    expect(r.dir).toBe(join(home, 'hub', FOLDER, 'snapshots', commit));
    expect(r.downloaded).toEqual([]);
    for (const f of modelFiles) expect(r.source!.files[f.path]).toBe(sha256(f.content));
    // by commit too, and via @revision in the id
    expect((await resolveIn(env, `${REPO}@${commit}`)).dir).toBe(r.dir);
    const m = await loadModel(r.dir, { trainable: false });
    expect(m.config.num_hidden_layers).toBe(1);
    m.dispose();
  });

  it('a partial cache (Python fetched only some files): only the missing ones are requested', async () => {
    const s = await hub();
    const env = hfEnv(s.url);
    writePythonCache(
      env.HF_HUB_CACHE!,
      REPO,
      s.commit,
      modelFiles.filter((f) => f.path !== WEIGHTS),
    );
    const r = await resolveIn(env);
    expect(r.downloaded).toEqual([WEIGHTS]);
    for (const f of modelFiles) {
      expect(transfers(s, f.path)).toHaveLength(f.path === WEIGHTS ? 1 : 0);
      expect(r.source!.files[f.path]).toBe(sha256(f.content));
    }
  });

  it('HF_HUB_OFFLINE=1: the cache only; a missing model is a named error and no request', async () => {
    const s = await hub();
    const env = hfEnv(s.url, { HF_HUB_OFFLINE: '1' });
    const e = await rejection(resolveIn(env));
    expect(e.code).toBe('NOT_CACHED');
    expect(e.message).toContain('HF_HUB_OFFLINE');
    expect(e.message).toContain(env.HF_HUB_CACHE!);
    expect(s.requests).toHaveLength(0);
    // online once, then offline works
    await resolveIn({ ...env, HF_HUB_OFFLINE: '0' });
    const n = s.requests.length;
    expect((await resolveIn(env)).source!.revision).toBe(s.commit);
    expect(s.requests.length).toBe(n);
  });

  it('gated: 401 without a token and 403 with a token lacking access name how to accept the licence', async () => {
    const s = await hub({ gated: true, allowedTokens: ['hf_granted'] });
    const noToken = await rejection(resolveIn(hfEnv(s.url)));
    expect(noToken.code).toBe('GATED');
    expect(noToken.message).toContain('HTTP 401');
    expect(noToken.message).toContain(`accept its licence on ${s.url}/${REPO}`);
    expect(noToken.message).toContain('set HF_TOKEN');
    const denied = await rejection(resolveIn(hfEnv(s.url, { HF_TOKEN: 'hf_other' })));
    expect(denied.code).toBe('GATED');
    expect(denied.message).toContain('HTTP 403');
    expect(denied.message).toContain('has no access yet');
    expect(s.requests.some((r) => r.authorization === 'Bearer hf_other')).toBe(true);
    const ok = await resolveIn(hfEnv(s.url, { HF_TOKEN: 'hf_granted' }));
    expect(ok.source!.files[WEIGHTS]).toBe(
      sha256(modelFiles.find((f) => f.path === WEIGHTS)!.content),
    );
  });

  it('an interrupted transfer keeps blobs/<etag>.incomplete and the next call resumes it with a Range request', async () => {
    const s = await hub();
    const env = hfEnv(s.url);
    const weights = modelFiles.find((f) => f.path === WEIGHTS)!;
    s.dropAfter(WEIGHTS, 3000);
    const e = await rejection(resolveIn(env, REPO, { retries: 0 }));
    expect(e.code).toBe('DOWNLOAD_FAILED');
    expect(e.message).toContain('run the command again to resume');
    const folder = join(env.HF_HUB_CACHE!, FOLDER);
    const partial = join(folder, 'blobs', `${sha256(weights.content)}.incomplete`);
    const have = statSync(partial).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThanOrEqual(3000);
    expect(existsSync(join(folder, 'snapshots', s.commit, WEIGHTS))).toBe(false);
    expect(existsSync(join(folder, 'refs', 'main'))).toBe(false); // the ref moves last
    const r = await resolveIn(env);
    expect(transfers(s, WEIGHTS).at(-1)!.range).toBe(`bytes=${have}-${weights.content.length - 1}`);
    expect(readFileSync(join(r.dir, WEIGHTS)).equals(weights.content)).toBe(true);
    expect(r.source!.files[WEIGHTS]).toBe(sha256(weights.content));
    expect(existsSync(partial)).toBe(false);
  });

  it('a dropped connection is resumed within the same call (Range from the bytes on disk)', async () => {
    const s = await hub();
    const env = hfEnv(s.url);
    const weights = modelFiles.find((f) => f.path === WEIGHTS)!;
    s.dropAfter(WEIGHTS, 5000);
    const warnings: string[] = [];
    const r = await resolveIn(env, REPO, {
      logger: { info: () => {}, warn: (m) => warnings.push(m) },
    });
    const [full, tail] = transfers(s, WEIGHTS);
    expect(full!.range).toBeNull();
    expect(tail!.range).toMatch(/^bytes=\d+-/);
    const from = Number(/^bytes=(\d+)-/.exec(tail!.range!)![1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(5000);
    expect(warnings.join('\n')).toContain(`${WEIGHTS}: `);
    expect(warnings.join('\n')).toContain(
      `after ${from} of ${weights.content.length} bytes; resuming`,
    );
    expect(readFileSync(join(r.dir, WEIGHTS)).equals(weights.content)).toBe(true);
  });

  it('a server that ignores Range still yields the right bytes on resume', async () => {
    const s = await hub();
    const env = hfEnv(s.url);
    const weights = modelFiles.find((f) => f.path === WEIGHTS)!;
    s.dropAfter(WEIGHTS, 2000);
    await rejection(resolveIn(env, REPO, { retries: 0 }));
    s.ignoreRange(true);
    const warnings: string[] = [];
    const r = await resolveIn(env, REPO, {
      logger: { info: () => {}, warn: (m) => warnings.push(m) },
    });
    expect(warnings.join('\n')).toMatch(/ignored the Range request/);
    expect(readFileSync(join(r.dir, WEIGHTS)).equals(weights.content)).toBe(true);
  });

  it('a corrupted byte is refused: nothing lands in blobs/ or snapshots/; a clean retry succeeds', async () => {
    const s = await hub();
    let env = hfEnv(s.url);
    for (const file of [WEIGHTS, 'config.json']) {
      env = hfEnv(s.url); // a fresh cache each time: config.json is fetched before the weights
      const folder = join(env.HF_HUB_CACHE!, FOLDER);
      s.corrupt(file, 17);
      const e = await rejection(resolveIn(env));
      expect(e.code).toBe('HASH_MISMATCH');
      expect(e.message).toContain(
        `${file} arrived corrupted (${file === WEIGHTS ? 'sha256' : 'git oid'}`,
      );
      const f = modelFiles.find((x) => x.path === file)!;
      expect(existsSync(join(folder, 'blobs', etagOf(f)))).toBe(false);
      expect(existsSync(join(folder, 'blobs', `${etagOf(f)}.incomplete`))).toBe(false);
      expect(existsSync(join(folder, 'snapshots', s.commit, file))).toBe(false);
      s.corrupt(file, null);
    }
    const r = await resolveIn(env);
    for (const f of modelFiles)
      expect(readFileSync(join(r.dir, f.path)).equals(f.content)).toBe(true);
  });

  it('revisions: @commit and the revision option agree; an unknown revision and a clash are named errors', async () => {
    const s = await hub();
    const env = hfEnv(s.url);
    const r = await resolveIn(env, `${REPO}@${s.commit}`);
    expect(r.dir).toBe(join(env.HF_HUB_CACHE!, FOLDER, 'snapshots', s.commit));
    expect(existsSync(join(env.HF_HUB_CACHE!, FOLDER, 'refs'))).toBe(false); // a commit needs no ref
    const missing = await rejection(resolveIn(hfEnv(s.url), REPO, { revision: 'v9' }));
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain('revision v9 does not exist');
    const clash = await rejection(resolveIn(env, `${REPO}@main`, { revision: 'v2' }));
    expect(clash.code).toBe('BAD_MODEL_ID');
    const unknown = await rejection(resolveIn(hfEnv(s.url), 'test/absent'));
    expect(unknown.code).toBe('NOT_FOUND');
    expect(unknown.message).toContain('test/absent was not found');
  });

  it('a repository with only *.bin weights is refused by name', async () => {
    const s = await hub({ files: repoFiles.filter((f) => f.path !== WEIGHTS) });
    const e = await rejection(resolveIn(hfEnv(s.url)));
    expect(e.code).toBe('NO_WEIGHTS');
    expect(e.message).toContain('only pytorch_model.bin, which are never read');
    expect(transfers(s, 'pytorch_model.bin')).toHaveLength(0);
  });

  it('sharded weights: the index and exactly the shards it names', async () => {
    const src = await SafetensorsFile.open(join(await tinyModelDir(7), WEIGHTS));
    const dir = tempDir('shards-');
    const names = src.names;
    const halves = [names.slice(0, names.length >> 1), names.slice(names.length >> 1)];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of halves.entries()) {
      const shard = `model-0000${i + 1}-of-00002.safetensors`;
      const tensors = [];
      for (const n of part) {
        const t = await src.read(n);
        tensors.push({ name: n, dtype: t.dtype, shape: t.shape, data: t.data });
        weightMap[n] = shard;
      }
      await writeSafetensors(join(dir, shard), tensors);
    }
    await src.close();
    const shardFiles: HubFile[] = readdirSync(dir).map((f) => ({
      path: f,
      content: readFileSync(join(dir, f)),
      lfs: true,
    }));
    const files: HubFile[] = [
      ...modelFiles.filter((f) => f.path !== WEIGHTS),
      ...shardFiles,
      {
        path: 'model.safetensors.index.json',
        content: Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap })),
        lfs: false,
      },
      { path: 'model-unused.safetensors', content: Buffer.alloc(64), lfs: true },
    ];
    const s = await hub({ files });
    const r = await resolveIn(hfEnv(s.url));
    expect(
      Object.keys(r.source!.files)
        .filter((f) => f.endsWith('.safetensors'))
        .sort(),
    ).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(transfers(s, 'model-unused.safetensors')).toHaveLength(0);
    const m = await loadModel(r.dir, { trainable: false });
    expect(m.config.hidden_size).toBe(16);
    m.dispose();
  });
});

/** Runs a process; resolves with its exit code and output. */
function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  onStderr?: (all: string) => void,
): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill: () => void } {
  const child = spawn(process.execPath, args, {
    cwd: resolve(import.meta.dirname, '..'),
    env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr.on('data', (d) => {
    stderr += String(d);
    onStderr?.(stderr);
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
    child.on('close', (code) => res({ code, stdout, stderr })),
  );
  return { done, kill: () => child.kill('SIGKILL') };
}

const RESOLVE_SCRIPT = `
import { resolvePretrained } from '@atmanrl/model/node';
const r = await resolvePretrained('${REPO}', {
  logger: { info: (m) => process.stderr.write(m + '\\n'), warn: (m) => process.stderr.write(m + '\\n') },
});
process.stdout.write(JSON.stringify(r));
`;

describe('processes', () => {
  it('two processes downloading at once: one fetches each blob, the other waits and shares it', async () => {
    const s = await hub();
    const env = hfEnv(s.url);
    const stalled = s.stallAfter(WEIGHTS, 1000);
    let sawWait: () => void = () => {};
    const waited = new Promise<void>((r) => {
      sawWait = r;
    });
    const onErr = (all: string) => {
      if (/model\.safetensors: another process \(.+\) is downloading it; waiting/.test(all))
        sawWait();
    };
    const a = run(['--input-type=module', '-e', RESOLVE_SCRIPT], env, onErr);
    const b = run(['--input-type=module', '-e', RESOLVE_SCRIPT], env, onErr);
    await stalled; // one process holds the weights' lock mid-transfer...
    // ...and the other is waiting for it (without the lock it would finish on its own instead)
    await Promise.race([waited, a.done, b.done]);
    s.release();
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const [ja, jb] = [JSON.parse(ra.stdout), JSON.parse(rb.stdout)];
    expect(ja.source).toEqual(jb.source);
    expect(ja.dir).toBe(jb.dir);
    const weights = modelFiles.find((f) => f.path === WEIGHTS)!;
    expect(transfers(s, WEIGHTS)).toHaveLength(1);
    expect(s.bytesServed.get(WEIGHTS)).toBe(weights.content.length);
    expect([...ja.downloaded, ...jb.downloaded].filter((f: string) => f === WEIGHTS)).toHaveLength(
      1,
    );
    expect(readFileSync(join(ja.dir, WEIGHTS)).equals(weights.content)).toBe(true);
  }, 60_000);
});

describe('atmanrl train --model test/tiny (built CLI)', () => {
  const trainArgs = (runs: string) => [
    cli,
    'train',
    ...tinyTrainFlags(REPO, runs),
    '--max-steps',
    '1',
  ];

  it('runs from a Python-layout cache with no network', async () => {
    const home = tempDir('hf-home-');
    writePythonCache(join(home, 'hub'), REPO, 'b'.repeat(40), modelFiles);
    const runs = tempDir();
    const r = await run(trainArgs(runs), {
      HF_HOME: home,
      HF_HUB_CACHE: join(home, 'hub'),
      HF_ENDPOINT: 'http://127.0.0.1:9', // closed: any request would fail
    }).done;
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^step 1\/1 \| reward/m);
    expect(r.stderr).not.toMatch(/downloading/);
  }, 300_000);

  it('downloads from the loopback Hub, resumes after being killed mid-download, and verifies', async () => {
    const s = await hub();
    const env = hfEnv(s.url);
    const weights = modelFiles.find((f) => f.path === WEIGHTS)!;
    const stalled = s.stallAfter(WEIGHTS, 4096);
    const runs = tempDir();
    const first = run(trainArgs(runs), env);
    await stalled;
    const partial = join(
      env.HF_HUB_CACHE!,
      FOLDER,
      'blobs',
      `${sha256(weights.content)}.incomplete`,
    );
    // the first 4096 bytes reach the disk before the kill
    for (
      let i = 0;
      i < 200 && (statSync(partial, { throwIfNoEntry: false })?.size ?? 0) < 4096;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    first.kill();
    const killed = await first.done;
    expect(killed.code).toBeNull(); // killed, not exited
    expect(statSync(partial).size).toBe(4096);
    expect(existsSync(join(env.HF_HUB_CACHE!, FOLDER, 'snapshots', s.commit, WEIGHTS))).toBe(false);
    const second = await run(trainArgs(runs), env).done;
    expect(second.stderr).not.toMatch(/internal error/);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      `downloading ${REPO}: ${WEIGHTS} (5/5), ${formatBytes(weights.content.length)}, resuming at ${formatBytes(4096)}`,
    );
    expect(transfers(s, WEIGHTS).at(-1)!.range).toBe(`bytes=4096-${weights.content.length - 1}`);
    expect(second.stdout).toMatch(/^step 1\/1 \| reward/m);
    const blob = join(env.HF_HUB_CACHE!, FOLDER, 'blobs', sha256(weights.content));
    expect(sha256(readFileSync(blob))).toBe(sha256(weights.content));
    expect(existsSync(partial)).toBe(false);
  }, 300_000);

  it("records the model's Hub id, commit and file hashes in run.json (modelSource)", async () => {
    const s = await hub();
    const runs = tempDir();
    const r = await run(trainArgs(runs), hfEnv(s.url)).done;
    expect(r.code, r.stderr).toBe(0);
    const [id] = readdirSync(runs);
    const info = RunInfoSchema.parse(JSON.parse(readFileSync(join(runs, id!, 'run.json'), 'utf8')));
    expect(info.modelSource).toEqual({
      id: REPO,
      revision: s.commit,
      files: Object.fromEntries(
        modelFiles
          .filter((f) => MODEL_FILE_NAMES.includes(f.path))
          .map((f) => [f.path, sha256(f.content)]),
      ),
    });
    expect(info.config['model']).toBe(REPO);
  }, 300_000);

  it('a gated model is exit 1 with the licence named, not an internal error', async () => {
    const s = await hub({ gated: true });
    const r = await run([cli, 'eval', '--model', REPO, '--backend', 'cpu'], hfEnv(s.url)).done;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--model ${REPO}: ${REPO} is a gated model (HTTP 401)`);
  }, 120_000);
});

describe('download progress', () => {
  const events = (total: number, resumedFrom = 0) => [
    {
      file: WEIGHTS,
      fileIndex: 4,
      fileCount: 5,
      bytes: resumedFrom,
      total,
      resumedFrom,
      phase: 'start' as const,
    },
    {
      file: WEIGHTS,
      fileIndex: 4,
      fileCount: 5,
      bytes: total / 2,
      total,
      resumedFrom,
      phase: 'data' as const,
    },
    {
      file: WEIGHTS,
      fileIndex: 4,
      fileCount: 5,
      bytes: total,
      total,
      resumedFrom,
      phase: 'done' as const,
    },
  ];

  it('on a TTY: a bar with bytes, rate and ETA', () => {
    const status: string[] = [];
    const io: CliIO = { out: () => {}, err: () => {}, isTTY: true, status: (t) => status.push(t) };
    let t = 0;
    const report = downloadReporter(io, REPO, () => t);
    const [start, half, done] = events(200e6);
    report(start!);
    t = 2000; // 100 MB in 2 s
    report(half!);
    expect(status.at(-1)).toBe(
      `downloading ${WEIGHTS} (5/5) [##########----------] 100.0 MB/200.0 MB 50.0 MB/s ETA 2.0s`,
    );
    report(done!);
    expect(status.at(-1)).toBe('');
  });

  it('not on a TTY: plain lines (start, each 10% of a large file, done)', () => {
    const { io, err } = captureIO();
    let t = 0;
    const report = downloadReporter(io, REPO, () => t);
    const [start, half, done] = events(200e6, 20e6);
    report(start!);
    t = 4000;
    report(half!);
    t = 9000;
    report(done!);
    expect(err).toEqual([
      `downloading ${REPO}: ${WEIGHTS} (5/5), 200.0 MB, resuming at 20.0 MB`,
      `downloading ${WEIGHTS} (5/5): 100.0 MB of 200.0 MB (20.0 MB/s)`,
      `downloaded ${WEIGHTS} (5/5): 200.0 MB in 9.0s (20.0 MB/s)`,
    ]);
  });
});

describe('the trainer side', () => {
  it('resolveModelDir finds a cached id with no network (the worker pool path), else says it is not cached', async () => {
    const home = tempDir('hf-home-');
    const commit = 'd'.repeat(40);
    const saved = process.env.HF_HUB_CACHE;
    process.env.HF_HUB_CACHE = join(home, 'hub');
    try {
      expect(() => resolveModelDir(REPO)).toThrow(UsageError);
      expect(() => resolveModelDir(REPO)).toThrow(
        /test\/tiny@main is not \(completely\) in the Hugging Face cache/,
      );
      writePythonCache(join(home, 'hub'), REPO, commit, modelFiles);
      const dir = join(home, 'hub', FOLDER, 'snapshots', commit);
      expect(resolveModelDir(REPO)).toBe(dir);
      expect(resolveModelDir(`${REPO}@${commit}`)).toBe(dir);
      expect(resolveModelDir(REPO, { revision: commit })).toBe(dir);
    } finally {
      if (saved === undefined) delete process.env.HF_HUB_CACHE;
      else process.env.HF_HUB_CACHE = saved;
    }
  });

  it('experiment configs: a folder next to the file wins, else a Hub id is passed on', () => {
    const base = tempDir('exp-');
    expect(experimentModelArg(base, REPO)).toBe(REPO);
    expect(experimentModelArg(base, 'sft-model')).toBe(join(base, 'sft-model'));
    mkdirSync(join(base, 'test', 'tiny'), { recursive: true });
    expect(experimentModelArg(base, REPO)).toBe(join(base, 'test', 'tiny'));
  });

  it('a token that is not hf_... is a named error before any request', async () => {
    const s = await hub();
    const e = await rejection(resolveIn(hfEnv(s.url, { HF_TOKEN: 'api_old' })));
    expect(e.code).toBe('BAD_TOKEN');
    expect(e.message).not.toContain('api_old');
    expect(s.requests).toHaveLength(0);
  });
});

describe('cache folder', () => {
  it('mkdirs nothing outside the given cache (HF_HOME/hub when HF_HUB_CACHE is unset)', async () => {
    const s = await hub();
    const home = tempDir('hf-home-');
    mkdirSync(join(home, 'hub'));
    const r = await resolveIn({ HF_HOME: home, HF_ENDPOINT: s.url });
    expect(r.dir.startsWith(join(home, 'hub', FOLDER))).toBe(true);
    expect(readdirSync(home).sort()).toEqual(['hub']);
  });
});
