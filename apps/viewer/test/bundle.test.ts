// The browser bundle must never pull TensorFlow.js (architecture: viewer -> runs only), nor
// Node built-ins. Greps the built files (tests run after `build`).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SITE_DIR } from './helpers.js';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)],
  );
}

describe('built bundle', () => {
  it('exists (run the build first)', () => {
    expect(existsSync(join(SITE_DIR, 'index.html'))).toBe(true);
  });

  it('contains no TensorFlow.js and no Node built-ins', () => {
    const all = [...files(SITE_DIR), resolve(SITE_DIR, '..', 'server.js')];
    expect(all.length).toBeGreaterThan(2);
    for (const f of all) {
      const text = readFileSync(f, 'utf8');
      expect(text.toLowerCase().includes('tensorflow'), f).toBe(false);
      expect(text.includes('@tensorflow'), f).toBe(false);
    }
    for (const f of files(SITE_DIR)) {
      expect(/from\s*["'](node:)?(fs|path|http)["']/.test(readFileSync(f, 'utf8')), f).toBe(false);
    }
  });

  it('ships as one script and one stylesheet (so exports can inline them)', () => {
    const assets = readdirSync(join(SITE_DIR, 'assets'));
    expect(assets.filter((a) => a.endsWith('.js'))).toHaveLength(1);
    expect(assets.filter((a) => a.endsWith('.css'))).toHaveLength(1);
  });
});
