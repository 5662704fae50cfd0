// Model ids, the HF_* environment, cache lookups in Python's layout, and the blob lock. The
// downloads themselves are tested against a loopback Hub in apps/trainer/test/hub.test.ts.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCachedSnapshot, hubSettings, parseHubModelId } from './hub-cache.js';
import { normalizeEtag } from './hub-download.js';
import { withFileLock } from './hub-lock.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'hub-cache-'));

describe('parseHubModelId', () => {
  it('splits org/name[@revision]', () => {
    expect(parseHubModelId('meta-llama/Llama-3.2-1B-Instruct')).toEqual({
      repo: 'meta-llama/Llama-3.2-1B-Instruct',
      revision: null,
    });
    expect(parseHubModelId('test/tiny@v1.0')).toEqual({ repo: 'test/tiny', revision: 'v1.0' });
    expect(parseHubModelId('test/tiny@refs/pr/3')).toEqual({
      repo: 'test/tiny',
      revision: 'refs/pr/3',
    });
  });

  it('rejects paths and malformed ids (huggingface_hub validate_repo_id rules)', () => {
    for (const s of [
      './model',
      '/models/x',
      'a/b/c',
      'gpt2',
      'embedded',
      'a--b/c',
      'a/b..c',
      '../x',
      'a/b@',
      'a/b@x y',
      'a b/c',
      `${'x'.repeat(60)}/${'y'.repeat(40)}`,
    ]) {
      expect(parseHubModelId(s), s).toBeNull();
    }
  });
});

describe('hubSettings', () => {
  it('reads the cache root, endpoint, token and offline flag as Python does', () => {
    const home = tmp();
    writeFileSync(join(home, 'token'), 'hf_fromfile\n');
    expect(hubSettings({ HF_HOME: home })).toEqual({
      cacheDir: join(home, 'hub'),
      endpoint: 'https://huggingface.co',
      token: 'hf_fromfile',
      offline: false,
    });
    expect(
      hubSettings({
        HF_HOME: home,
        HF_HUB_CACHE: '/c',
        HF_ENDPOINT: 'http://mirror.local/',
        HF_TOKEN: 'hf_env',
        HF_HUB_OFFLINE: 'true',
      }),
    ).toEqual({ cacheDir: '/c', endpoint: 'http://mirror.local', token: 'hf_env', offline: true });
    expect(hubSettings({ XDG_CACHE_HOME: '/x', HF_TOKEN: '' }).cacheDir).toBe('/x/huggingface/hub');
    expect(hubSettings({ HF_TOKEN: '' }).cacheDir).toBe(
      join(homedir(), '.cache', 'huggingface', 'hub'),
    );
    expect(hubSettings({ HF_TOKEN: '' }).token).toBeUndefined();
    for (const v of ['1', 'ON', 'yes'])
      expect(hubSettings({ HF_HUB_OFFLINE: v }).offline).toBe(true);
    for (const v of ['0', 'false', ''])
      expect(hubSettings({ HF_HUB_OFFLINE: v }).offline).toBe(false);
    expect(hubSettings({ TRANSFORMERS_OFFLINE: '1' }).offline).toBe(true);
  });
});

describe('findCachedSnapshot', () => {
  const commit = 'c'.repeat(40);
  function cache(files: Record<string, string>, ref = true): string {
    const root = tmp();
    const folder = join(root, 'models--org--m');
    mkdirSync(join(folder, 'blobs'), { recursive: true });
    mkdirSync(join(folder, 'snapshots', commit), { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(folder, 'blobs', `${name}.blob`), content);
      symlinkSync(
        join('..', '..', 'blobs', `${name}.blob`),
        join(folder, 'snapshots', commit, name),
      );
    }
    if (ref) {
      mkdirSync(join(folder, 'refs'));
      writeFileSync(join(folder, 'refs', 'main'), `${commit}\n`);
    }
    return root;
  }

  it('follows refs/<revision> to snapshots/<commit> (symlinks into blobs/)', () => {
    const root = cache({ 'config.json': '{}', 'tokenizer.json': '{}', 'model.safetensors': 'x' });
    const dir = join(root, 'models--org--m', 'snapshots', commit);
    expect(findCachedSnapshot('org/m', { cacheDir: root })).toEqual({ dir, commit, missing: [] });
    expect(findCachedSnapshot('org/m', { cacheDir: root, revision: commit })?.dir).toBe(dir);
    expect(findCachedSnapshot('org/m', { cacheDir: root, revision: 'v2' })).toBeNull();
    expect(findCachedSnapshot('org/other', { cacheDir: root })).toBeNull();
  });

  it('names what an incomplete snapshot lacks (shards of the index included)', () => {
    const index = JSON.stringify({
      weight_map: { a: 'model-1.safetensors', b: 'model-2.safetensors' },
    });
    const root = cache({
      'config.json': '{}',
      'model.safetensors.index.json': index,
      'model-1.safetensors': 'x',
    });
    expect(findCachedSnapshot('org/m', { cacheDir: root })?.missing).toEqual([
      'tokenizer.json',
      'model-2.safetensors',
    ]);
    expect(
      findCachedSnapshot('org/m', { cacheDir: cache({ 'config.json': '{}' }, false) }),
    ).toBeNull();
  });
});

describe('normalizeEtag', () => {
  it('drops the weak prefix and quotes, as Python names blobs', () => {
    expect(normalizeEtag('"abc"')).toBe('abc');
    expect(normalizeEtag('W/"abc"')).toBe('abc');
    expect(normalizeEtag('abc')).toBe('abc');
  });
});

describe('withFileLock', () => {
  it('takes over the lock of a dead process at once', async () => {
    const dir = tmp();
    const lock = join(dir, 'x.lock');
    // pid 2^22+1 is above Linux's pid_max default ceiling: no such process
    writeFileSync(lock, `${hostname()} 4194305 old`);
    const waits: string[] = [];
    expect(await withFileLock(lock, async () => 7, { onWait: (h) => waits.push(h) })).toBe(7);
    expect(waits).toEqual([]);
    expect(readdirSync(dir)).toEqual([]); // released
  });

  it('waits while a live process holds it, then runs', async () => {
    const dir = tmp();
    const lock = join(dir, 'x.lock');
    writeFileSync(lock, `${hostname()} ${process.pid} other`);
    const order: string[] = [];
    const p = withFileLock(lock, async () => order.push('ran'), {
      pollMs: 10,
      onWait: (holder) => {
        order.push(`waiting on ${holder}`);
        // the holder finishes
        setTimeout(() => {
          order.push('released');
          rmSync(lock);
        }, 50);
      },
    });
    await p;
    expect(order).toEqual([`waiting on ${hostname()} pid ${process.pid}`, 'released', 'ran']);
  });
});
