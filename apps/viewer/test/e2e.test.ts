// End-to-end: the built site in Debian's chromium (playwright-core, one browser for the file),
// against fixture runs served by startViewerServer, plus a static export opened from file://.
// Screenshots of every page go to test-output/ for review.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunWriter } from '@atmanrl/runs/node';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportRun } from '../src/server/export-run.js';
import { startViewerServer, type ViewerServer } from '../src/server/serve.js';
import { FIXTURE_RUNS, FIXTURE_STEPS, G, writeFixtureRuns } from './fixtures/make-runs.mjs';
import { OUTPUT_DIR, rawRequest, SITE_DIR, tempDir } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Hand-computed colours of the fixed scale at its stops (ColorBrewer PuOr/RdBu end points). */
const EXPECTED_COLORS: Record<string, string> = {
  '1': 'rgb(230, 97, 1)',
  '-1.5': 'rgb(33, 102, 172)',
  '0': 'rgb(247, 247, 247)',
  '0.5': 'rgb(253, 184, 99)',
};

if (!hasChromium) {
  describe('viewer e2e', () => {
    it.skip(`skipped: ${CHROMIUM} not found (install Debian's chromium: apt-get install -y chromium)`, () => {});
  });
}

describe.skipIf(!hasChromium)('viewer e2e (chromium)', () => {
  let runsDir: string;
  let server: ViewerServer;
  let context: BrowserContext;
  let userDir: string;

  beforeAll(async () => {
    runsDir = tempDir('viewer-e2e-runs-');
    writeFixtureRuns(runsDir);
    server = await startViewerServer({ runsDir, port: 0, staticDir: SITE_DIR });
    userDir = tempDir('viewer-e2e-chromium-');
    context = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1400, height: 900 },
    });
    mkdirSync(OUTPUT_DIR, { recursive: true });
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    if (runsDir) rmSync(runsDir, { recursive: true, force: true });
  });

  /** Opens a page that records console errors and uncaught exceptions. */
  async function open(url: string): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${m.text()} @ ${m.location().url}`);
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    return { page, errors };
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`), fullPage: true });

  function metricNamesOf(runId: string): string[] {
    const lines = readFileSync(join(runsDir, runId, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    return [...new Set(lines.flatMap((l) => Object.keys(JSON.parse(l).metrics)))];
  }

  it('runs list shows every run with status, steps and key metrics, and diffs configs', async () => {
    const { page, errors } = await open(`${server.url}#/`);
    const rows = page.locator('table.runs-table tr[data-run]');
    await expect.poll(() => rows.count()).toBe(3);
    const rowA = page.locator(`tr[data-run="${FIXTURE_RUNS.a}"]`);
    await expect
      .poll(() => rowA.locator('td[data-col="steps"]').textContent())
      .toBe(`${FIXTURE_STEPS} / ${FIXTURE_STEPS}`);
    const lines = readFileSync(join(runsDir, FIXTURE_RUNS.a, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    const lastReward = JSON.parse(lines[lines.length - 1]!).metrics.reward as number;
    expect(await rowA.locator('td[data-col="metric:reward"]').textContent()).toBe(
      lastReward.toFixed(3),
    );
    expect(await rowA.locator('.status').textContent()).toBe('finished');
    expect(await page.locator(`tr[data-run="${FIXTURE_RUNS.partial}"] .status`).textContent()).toBe(
      'running',
    );
    await shot(page, '1-runs-list');

    await page.getByLabel('Select reliance').check();
    await page.getByLabel('Select paper-literal').check();
    const diff = page.locator('.config-diff table tbody tr');
    await expect.poll(() => diff.count()).toBe(2);
    const keys = await page.locator('.config-diff tbody th').allTextContents();
    expect(keys).toEqual(['grpo.learningRate', 'saliencyReward.direction']);
    expect(await diff.nth(1).locator('td').allTextContents()).toEqual([
      'reliance',
      'paper-literal',
    ]);
    await shot(page, '2-runs-config-diff');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('overview draws one chart per metric with the right number of points, and overlays runs', async () => {
    const { page, errors } = await open(`${server.url}#/run/${FIXTURE_RUNS.a}`);
    const reward = page.locator('figure[data-metric="reward"]');
    await expect.poll(() => reward.getAttribute('data-points')).toBe(String(FIXTURE_STEPS));
    expect(await reward.locator('canvas').count()).toBe(1);
    // grad_norm was NaN (logged as null) at one step: one point fewer.
    expect(await page.locator('figure[data-metric="grad_norm"]').getAttribute('data-points')).toBe(
      String(FIXTURE_STEPS - 1),
    );
    const shown = await page
      .locator('figure[data-metric]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-metric')));
    expect(shown.sort()).toEqual(metricNamesOf(FIXTURE_RUNS.a).sort());
    // Smoothing from the keyboard.
    await page.getByRole('slider', { name: 'Smoothing' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('.control output').textContent()).toBe('0.01');
    await shot(page, '3-overview');
    await page.close();

    const b = await open(`${server.url}#/run/${FIXTURE_RUNS.a}?with=${FIXTURE_RUNS.b}`);
    const acc = b.page.locator('figure[data-metric="accuracy"]');
    // run b logs accuracy every 5 steps.
    await expect
      .poll(() => acc.getAttribute('data-points'))
      .toBe(`${FIXTURE_STEPS},${FIXTURE_STEPS / 5}`);
    await shot(b.page, '4-overview-overlay');
    expect([...errors, ...b.errors]).toEqual([]);
    await b.page.close();
  });

  it('rollouts colour each token by its relevance on the fixed scale and compare steps', async () => {
    const { page, errors } = await open(
      `${server.url}#/run/${FIXTURE_RUNS.a}/rollouts?step=10&prompt=0&scale=fixed`,
    );
    const cards = page.locator('article.completion');
    await expect.poll(() => cards.count()).toBe(G);
    const first = cards.first().locator('.tok');
    const got = await first.evaluateAll((els) =>
      els.slice(0, 4).map((e) => ({
        bg: getComputedStyle(e).backgroundColor,
        rel: e.getAttribute('data-relevance') ?? '',
        title: e.getAttribute('title') ?? '',
      })),
    );
    expect(got.map((g) => g.rel)).toEqual(['1', '-1.5', '0', '0.5']);
    for (const g of got) expect(g.bg).toBe(EXPECTED_COLORS[g.rel]);
    expect(got[0]!.title).toContain('relevance 1.0000');
    // The answer span is marked; delimiter/answer tokens carry no mask.
    expect(await cards.first().locator('.answer-span .tok').count()).toBe(1);
    expect(await page.locator('.legend-bar').count()).toBe(1);
    await shot(page, '5-rollouts');

    const tokens = await page.locator('.tok').count();
    await page.getByRole('button', { name: 'Words' }).click();
    await expect.poll(() => page.url()).toContain('gran=word');
    expect(await page.getByRole('button', { name: 'Words' }).getAttribute('aria-pressed')).toBe(
      'true',
    );
    const words = await page.locator('.tok').count();
    expect(words).toBeLessThan(tokens);
    await page.locator('label:has-text("Compare with step") select').selectOption('20');
    const groups = page.locator('section.group');
    await expect.poll(() => groups.count()).toBe(2);
    // Problem gsm8k-train-0 recurs at step 20 as prompt 1.
    expect(await groups.nth(1).locator('h3').textContent()).toBe('Step 20, prompt 1 (same sample)');
    await shot(page, '6-rollouts-compare-words');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('evaluation shows every curve with its random baseline and area', async () => {
    const { page, errors } = await open(`${server.url}#/run/${FIXTURE_RUNS.a}/eval`);
    const figs = page.locator('figure[data-curve]');
    await expect.poll(() => figs.count()).toBe(4);
    const report = JSON.parse(
      readFileSync(join(runsDir, FIXTURE_RUNS.a, 'eval', 'final.json'), 'utf8'),
    );
    for (const c of report.curves) {
      const fig = page.locator(`figure[data-curve="${c.name}"]`);
      expect(await fig.getAttribute('data-points')).toBe(`${c.x.length},${c.baseline.x.length}`);
      expect(await fig.locator('.plot-caption').textContent()).toBe(
        `${c.area.kind} ${c.area.value.toFixed(3)} (random ${c.area.baseline.toFixed(3)})`,
      );
    }
    await shot(page, '7-evaluation');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a partial run (torn line, zero steps, no eval, no samples) shows what is missing', async () => {
    const base = `${server.url}#/run/${FIXTURE_RUNS.partial}`;
    const { page, errors } = await open(base);
    const problems = page.locator('.problems li');
    await expect.poll(() => problems.count()).toBeGreaterThan(0);
    expect(await page.locator('.problems li[data-code="TORN_LINE"]').count()).toBe(1);
    expect(await page.locator('.problems').textContent()).toContain('zero logged steps');
    expect(await page.locator('figure[data-metric]').count()).toBe(0);
    await shot(page, '8-partial-overview');
    await page.goto(`${base}/rollouts`);
    await expect
      .poll(() => page.locator('.problems').textContent())
      .toContain('No logged rollouts');
    await page.goto(`${base}/eval`);
    await expect
      .poll(() => page.locator('.problems').textContent())
      .toContain('No evaluation reports');
    await shot(page, '9-partial-eval');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('navigates between pages with links and the keyboard, with visible focus', async () => {
    const { page, errors } = await open(`${server.url}#/`);
    await page.getByRole('link', { name: 'reliance', exact: true }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('reliance');
    expect(page.url()).toContain(`#/run/${FIXTURE_RUNS.a}`);
    const tab = page.getByRole('link', { name: 'Rollouts' });
    await tab.focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab'); // keyboard focus → :focus-visible
    const outline = await tab.evaluate((e) => getComputedStyle(e).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('article.completion').count()).toBe(G);
    expect(await page.getByRole('link', { name: 'Rollouts' }).getAttribute('aria-current')).toBe(
      'page',
    );
    await page.getByRole('link', { name: 'Evaluation' }).click();
    await expect.poll(() => page.locator('figure[data-curve]').count()).toBe(4);
    await page.getByRole('link', { name: 'All runs' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Runs');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('picks up new metrics lines of a running run (live refresh)', async () => {
    const w = RunWriter.create({
      runsDir,
      id: 'run-d-live',
      command: 'train',
      config: {},
      seed: 4,
      backend: { name: 'cpu' },
    });
    for (let s = 1; s <= 3; s++) w.logMetrics(s, { reward: s / 10 });
    const { page, errors } = await open(`${server.url}#/run/run-d-live`);
    const reward = page.locator('figure[data-metric="reward"]');
    await expect.poll(() => reward.getAttribute('data-points')).toBe('3');
    expect(await page.locator('.live').count()).toBe(1);
    w.logMetrics(4, { reward: 0.4 });
    w.logMetrics(5, { reward: 0.5 });
    await expect.poll(() => reward.getAttribute('data-points'), { timeout: 10_000 }).toBe('5');
    w.setStatus('finished');
    await expect
      .poll(() => page.locator('.run-meta .status').textContent(), { timeout: 10_000 })
      .toBe('finished');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refuses path traversal through the server', async () => {
    for (const path of [
      '/runs/../../../etc/passwd',
      '/runs/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/runs/..%2f..%2fetc%2fpasswd',
    ]) {
      const res = await rawRequest(server.url, path);
      expect([403, 404]).toContain(res.status);
      expect(res.body).not.toContain('root:');
    }
  });

  it('a static export opens from file:// without a server', async () => {
    const out = join(tempDir('viewer-e2e-export-'), 'export');
    const result = await exportRun({
      runsDir,
      runId: FIXTURE_RUNS.a,
      outDir: out,
      staticDir: SITE_DIR,
    });
    const url = pathToFileURL(result.indexHtml).href;
    const { page, errors } = await open(`${url}#/run/${FIXTURE_RUNS.a}`);
    const reward = page.locator('figure[data-metric="reward"]');
    await expect.poll(() => reward.getAttribute('data-points')).toBe(String(FIXTURE_STEPS));
    expect(await page.locator('.export-note').textContent()).toContain(FIXTURE_RUNS.a);
    await shot(page, '10-export-file-overview');
    await page.goto(`${url}#/run/${FIXTURE_RUNS.a}/rollouts?step=10`);
    await expect.poll(() => page.locator('article.completion').count()).toBe(G);
    await page.goto(`${url}#/run/${FIXTURE_RUNS.a}/eval`);
    await expect.poll(() => page.locator('figure[data-curve]').count()).toBe(4);
    // The aggregate saliency of the exported run's rollouts (one point per logged step).
    await page.goto(`${url}#/run/${FIXTURE_RUNS.a}/saliency`);
    const share = page.locator('figure[data-metric="cot relevance > 0 (share of tokens)"]');
    await expect.poll(() => share.count()).toBe(1);
    const logged = new Set(
      readFileSync(join(runsDir, FIXTURE_RUNS.a, 'samples.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).step),
    ).size;
    expect(await share.getAttribute('data-points')).toBe(String(logged));
    await page.goto(`${url}#/`);
    await expect.poll(() => page.locator('table.runs-table tr[data-run]').count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
    rmSync(out, { recursive: true, force: true });
  });
});
