// The runs list of the committed 25-run experiment (experiments/small-cpu/runs) in chromium over
// loopback: from navigation to every row showing its summary (run.json, last metrics, eval
// summaries). Target: under 0.5 s. Also prints requests and bytes of one load.
// Run: pnpm --filter @atmanrl/viewer build && cd apps/viewer && pnpm exec vitest bench --run
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { bench, describe } from 'vitest';
import { startViewerServer, type ViewerServer } from '../src/server/serve.js';

const RUNS = resolve(import.meta.dirname, '..', '..', '..', 'experiments', 'small-cpu', 'runs');
const SITE = resolve(import.meta.dirname, '..', 'dist', 'site');
const CHROMIUM = '/usr/bin/chromium';
const ready = existsSync(CHROMIUM) && existsSync(RUNS) && existsSync(join(SITE, 'index.html'));

let server: ViewerServer | undefined;
let browser: Browser | undefined;
let page: Page;

/** Starts the server and browser once (vitest bench runs no beforeAll hooks) and logs one load. */
async function start(): Promise<void> {
  server = await startViewerServer({ runsDir: RUNS, port: 0, staticDir: SITE });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  let requests = 0;
  let bytes = 0;
  const count = async (r: import('playwright-core').Request) => {
    requests++;
    bytes += (await r.sizes()).responseBodySize;
  };
  page.on('requestfinished', count);
  await loadList();
  await page.waitForTimeout(300);
  page.off('requestfinished', count);
  console.log(`one load: ${requests} requests, ${(bytes / 1024).toFixed(0)} KiB (site + data)`);
}

async function loadList(): Promise<void> {
  if (!server) await start();
  await page.goto('about:blank');
  await page.goto(`${server!.url}#/`);
  // Ready: 25 rows and the summaries in (the loading note gone, eval values shown).
  await page.waitForFunction(
    () =>
      document.querySelectorAll('tr[data-run]').length === 25 &&
      !document.body.textContent?.includes('Loading run summaries') &&
      document.querySelector('td[data-col="eval:pass@1"]') !== null,
    null,
    { timeout: 20_000, polling: 'raf' },
  );
}

describe.skipIf(!ready)('viewer runs list (25 runs, loopback, chromium)', () => {
  bench('load the runs list until every summary is shown', loadList, {
    iterations: 10,
    warmupIterations: 1,
    throws: true,
    teardown: async (_task, mode) => {
      if (mode !== 'run') return;
      await browser?.close();
      await server?.close();
    },
  });
});
