// End-to-end (chromium): the viewer as a research dashboard on the committed experiment folder
// experiments/small-cpu (4 arms × 3 seeds, 13 eval runs, results.json): the experiment report,
// the runs table (groups, sort, filter, columns, config diff, lazy loading, 420 px), chart
// read-outs, eval comparison, token values by keyboard; plus the live view after a resume
// truncates metrics.jsonl (issue 18 item 9). Every assertion compares what is shown with the
// run files. Screenshots go to test-output/.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { RunWriter } from '@atmanrl/runs/node';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startViewerServer, type ViewerServer } from '../src/server/serve.js';
import { OUTPUT_DIR, SITE_DIR, tempDir } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const EXPERIMENT = resolve(import.meta.dirname, '..', '..', '..', 'experiments', 'small-cpu');
const ready = existsSync(CHROMIUM) && existsSync(join(EXPERIMENT, 'results.json'));

/** Runs of the experiment: job folder → its one run folder id (`runs/<job>/<run>`). */
function runId(job: string): string {
  const dir = join(EXPERIMENT, 'runs', job);
  return `runs/${job}/${readdirSync(dir).find((d) => existsSync(join(dir, d, 'run.json')))!}`;
}
const file = (id: string, name: string) => join(EXPERIMENT, id, name);
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const metricsOf = (id: string): { step: number; metrics: Record<string, number | null> }[] =>
  readFileSync(file(id, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const lastOf = (id: string, m: string) =>
  metricsOf(id)
    .map((r) => r.metrics[m])
    .filter((v): v is number => typeof v === 'number')
    .at(-1)!;
const hash = (route: string) => `#/${route}`;
/** Poll options for a page's first load (the runs list reads 25 runs). */
const LOAD = { timeout: 15_000 };
const enc = encodeURIComponent;

if (!ready) {
  describe('viewer dashboard e2e', () => {
    it.skip(`skipped: needs ${CHROMIUM} and ${EXPERIMENT}/results.json`, () => {});
  });
}

describe.skipIf(!ready)('viewer dashboard e2e (chromium, experiments/small-cpu)', () => {
  let server: ViewerServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startViewerServer({ runsDir: EXPERIMENT, port: 0, staticDir: SITE_DIR });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    mkdirSync(OUTPUT_DIR, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(url: string, width = 1280): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    return { page, errors };
  }
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(OUTPUT_DIR, `dash-${name}.png`), fullPage: true });

  it('shows the experiment report from results.json and links each arm to its runs', async () => {
    const results = json(join(EXPERIMENT, 'results.json'));
    const { page, errors } = await open(`${server.url}${hash('')}`);
    const arms = page.locator('table.arms-table tbody tr');
    await expect.poll(() => arms.count()).toBe(1 + Object.keys(results.arms).length);
    for (const [arm, stats] of Object.entries<Record<string, { mean: number; std: number }>>(
      results.arms,
    )) {
      const row = page.locator(`table.arms-table tr[data-arm="${arm}"]`);
      const p1 = stats['pass@1']!;
      expect(await row.locator('td[data-metric="pass@1"] .cell-main').textContent()).toBe(
        `${p1.mean.toFixed(3)} ± ${p1.std.toFixed(3)}`,
      );
      const ea = stats['early_answering/aoc']!;
      const eaBase = stats['early_answering/aoc_random']!;
      const eaCell = row.locator('td[data-metric="early_answering/aoc"]');
      expect(await eaCell.locator('.cell-main').textContent()).toBe(
        `${ea.mean.toFixed(3)} ± ${ea.std.toFixed(3)}`,
      );
      expect(await eaCell.locator('.cell-base').textContent()).toBe(
        `aoc_random ${eaBase.mean.toFixed(3)}`,
      );
      // the adding-mistakes baseline is named as the data names it, not "random"
      expect(
        await row.locator('td[data-metric="adding_mistakes/aoc"] .cell-base').textContent(),
      ).toContain('aoc_baseline ');
      await expect.poll(() => row.getByRole('link', { name: 'curves (3)' }).count(), LOAD).toBe(1);
      expect(await row.getByRole('link', { name: 'evals (3)' }).count()).toBe(1);
    }
    expect(
      await page.locator('tr[data-arm="start"] td[data-metric="pass@1"] .cell-main').textContent(),
    ).toBe(results.start['pass@1'].toFixed(3));
    await shot(page, '1-experiment-report');
    await page
      .locator('tr[data-arm="B-reliance"]')
      .getByRole('link', { name: 'curves (3)' })
      .click();
    await expect.poll(() => page.locator('.runs-legend li').count()).toBe(3);
    expect((await page.locator('.runs-legend a').allTextContents()).sort()).toEqual([
      'B-reliance-s0',
      'B-reliance-s1',
      'B-reliance-s2',
    ]);
    // All four arms' curves at once, then one mean curve per arm.
    await page.goBack();
    await page.getByRole('link', { name: 'training curves (12 runs)' }).click();
    await expect.poll(() => page.locator('.runs-legend li').count()).toBe(12);
    await page.getByLabel('Mean per arm (over its seeds)').check();
    const legend = page.locator('figure[data-metric="reward"] .plot-legend li');
    await expect.poll(() => legend.count()).toBe(4);
    for (const arm of Object.keys(results.arms)) {
      const li = page.locator(
        `figure[data-metric="reward"] .plot-legend li[data-series="${arm} (mean of 3)"] .last`,
      );
      const want = [0, 1, 2].reduce((a, s) => a + lastOf(runId(`${arm}-s${s}`), 'reward'), 0) / 3;
      expect(Number((await li.textContent())!.replace('last ', ''))).toBeCloseTo(want, 3);
    }
    await shot(page, '1b-arm-means');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('runs table: eval runs labelled by what they evaluated, groups with mean ± sd, sort, filter, columns, diff, lazy', async () => {
    const { page, errors } = await open(`${server.url}${hash('')}`);
    const evalRequests: { url: string; status: number; range: string | null }[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/eval/eval.json'))
        evalRequests.push({
          url: r.url(),
          status: r.status(),
          range: r.request().headers().range ?? null,
        });
    });
    await page.reload();
    const rows = page.locator('table.runs-table tr[data-run]');
    await expect.poll(() => rows.count(), LOAD).toBe(25);
    await expect
      .poll(() =>
        page
          .locator(`tr[data-run="${runId('A-outcome-s0')}"] td[data-col="metric:reward"]`)
          .textContent(),
      )
      .toBe(lastOf(runId('A-outcome-s0'), 'reward').toFixed(3));
    // Eval runs: each labelled by the run and checkpoint it evaluated; all 25 labels distinct.
    const evalRow = page.locator(`tr[data-run="${runId('C-paper-literal-s1-eval')}"]`);
    expect(await evalRow.locator('th a').textContent()).toBe(
      'eval of C-paper-literal-s1 @ step-24',
    );
    expect(await page.locator(`tr[data-run="${runId('start-eval')}"] th a`).textContent()).toBe(
      'eval of sft-model',
    );
    const labels = await page.locator('table.runs-table tr[data-run] th a').allTextContents();
    expect(new Set(labels).size).toBe(25);
    // No false problem: no run has any, so the problems column is hidden.
    expect(await page.locator('td[data-col="problems"]').count()).toBe(0);
    const summary = json(file(runId('C-paper-literal-s1-eval'), 'eval/eval.json')).summary;
    expect(await evalRow.locator('td[data-col="eval:pass@1"]').textContent()).toBe(
      summary['pass@1'].toFixed(3),
    );
    // Lazy: 13 eval reports, each read as one Range request for its head, never in full.
    expect(evalRequests.length).toBe(13);
    for (const r of evalRequests) {
      expect(r.range).toMatch(/^bytes=0-\d+$/);
      expect(r.status).toBe(206);
    }
    // Groups: 4 arms + the start eval, each arm with its 3 seeds' mean ± sd.
    const groups = page.locator('tbody.run-group');
    expect(await groups.count()).toBe(5);
    const armRewards = [0, 1, 2].map((s) => lastOf(runId(`A-outcome-s${s}`), 'reward'));
    const mean = armRewards.reduce((a, b) => a + b, 0) / 3;
    const sd = Math.sqrt(armRewards.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
    expect(
      await page
        .locator('tbody[data-group="A-outcome"] .group-row td[data-col="metric:reward"]')
        .textContent(),
    ).toBe(`${mean.toFixed(3)} ± ${sd.toFixed(3)}`);
    // Seeds of one arm share a colour and differ by line style.
    const swatches = await page
      .locator('tbody[data-group="A-outcome"] tr[data-run] .swatch-line line')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('stroke')}|${e.getAttribute('stroke-dasharray') ?? ''}`),
      );
    expect(new Set(swatches.map((s) => s.split('|')[0])).size).toBe(1);
    // each seed its own dash (solid, dashed, dotted), as the charts draw them; an eval run
    // takes the dash of the run it evaluated
    expect(new Set(swatches.map((s) => s.split('|')[1]))).toEqual(new Set(['', '6 3', '2 3']));
    await shot(page, '2-runs-grouped');

    // Sort by reward (descending first), ungrouped: training runs in order of last reward.
    await page.locator('label:has-text("Group by") select').selectOption('none');
    await page.locator('label:has-text("Kind") select').selectOption('train');
    await page.getByRole('button', { name: 'reward', exact: true }).click();
    const order = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-run')));
    const trainIds = [...order] as string[];
    const expected = [...trainIds].sort((a, b) => lastOf(b, 'reward') - lastOf(a, 'reward'));
    expect(order.map((id) => lastOf(id!, 'reward'))).toEqual(
      expected.map((id) => lastOf(id, 'reward')),
    );
    expect(order.length).toBe(12);
    // Filter.
    const filter = page.locator('label:has-text("Filter") input');
    await filter.fill('D-reliance');
    await expect.poll(() => rows.count()).toBe(3);
    await filter.fill('');
    // Choose columns: hide accuracy, show entropy (not a default column).
    await page.locator('.runs-toolbar .columns-pick summary').click();
    const pick = (name: string) =>
      page.locator('.runs-toolbar .columns-pick').getByRole('checkbox', { name, exact: true });
    expect(await page.locator('td[data-col="metric:accuracy"]').count()).toBe(12);
    await pick('accuracy').uncheck();
    expect(await page.locator('td[data-col="metric:accuracy"]').count()).toBe(0);
    await pick('entropy').check();
    const a0 = runId('A-outcome-s0');
    expect(
      await page.locator(`tr[data-run="${a0}"] td[data-col="metric:entropy"]`).textContent(),
    ).toBe(lastOf(a0, 'entropy').toFixed(3));
    // kl is a default column, but no run logs it: hidden as empty.
    expect(await page.locator('td[data-col="metric:kl"]').count()).toBe(0);
    // Config diff beside the table, without noise keys.
    await page.getByLabel('Select A-outcome-s0', { exact: true }).check();
    await page.getByLabel('Select B-reliance-s0', { exact: true }).check();
    const keys = await page.locator('.config-diff tbody th').allTextContents();
    expect(keys).toEqual(['saliencyReward']);
    const a = json(file(runId('A-outcome-s0'), 'run.json')).config;
    const b = json(file(runId('B-reliance-s0'), 'run.json')).config;
    expect(await page.locator('.config-diff tbody td').allTextContents()).toEqual([
      String(a.saliencyReward),
      String(b.saliencyReward),
    ]);
    const tableBox = (await page.locator('.runs-main').boundingBox())!;
    const diffBox = (await page.locator('.config-diff').boundingBox())!;
    expect(diffBox.x).toBeGreaterThan(tableBox.x + tableBox.width - 1);
    expect(diffBox.y).toBeLessThan(tableBox.y + 200);
    await shot(page, '3-runs-sorted-diff');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('at 420 px the runs list is one column without horizontal scrolling', async () => {
    const { page, errors } = await open(`${server.url}${hash('')}`, 420);
    await expect.poll(() => page.locator('table.runs-table tr[data-run]').count(), LOAD).toBe(25);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      420,
    );
    const row = page.locator(`tr[data-run="${runId('A-outcome-s0')}"]`);
    await expect
      .poll(() => row.locator('td[data-col="metric:reward"]').textContent())
      .toBe(lastOf(runId('A-outcome-s0'), 'reward').toFixed(3));
    await shot(page, '4-runs-420px');
    const id = runId('A-outcome-s0');
    await page.goto(`${server.url}${hash(`run/${enc(id)}`)}`);
    await expect.poll(() => page.locator('figure[data-metric="reward"] canvas').count()).toBe(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      420,
    );
    await shot(page, '5-overview-420px');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('charts: hover read-out of every overlaid run, synced cursor, last values, units', async () => {
    const ids = [0, 1, 2].map((s) => runId(`A-outcome-s${s}`));
    const d0 = runId('D-reliance-gated-s0');
    const { page, errors } = await open(
      `${server.url}${hash(`run/${enc(ids[0]!)}?with=${[ids[1]!, ids[2]!, d0].map(enc).join(',')}`)}`,
    );
    const reward = page.locator('figure[data-metric="reward"]');
    await expect.poll(() => reward.getAttribute('data-points')).toBe('24,24,24,24');
    // One legend entry per run with its own last value.
    const names = ['A-outcome-s0', 'A-outcome-s1', 'A-outcome-s2', 'D-reliance-gated-s0'];
    const all = [...ids, d0];
    for (let i = 0; i < 4; i++) {
      const li = reward.locator(`.plot-legend li[data-series="${names[i]}"] .last`);
      const shown = Number((await li.textContent())!.replace('last ', ''));
      expect(shown).toBeCloseTo(lastOf(all[i]!, 'reward'), 3);
    }
    const over = reward.locator('.u-over');
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    const tip = reward.locator('.plot-tip');
    await expect.poll(() => tip.isVisible()).toBe(true);
    const step = Number((await tip.locator('.tip-x').textContent())!.replace('step ', ''));
    expect(Number.isInteger(step)).toBe(true);
    const tipRows = await tip
      .locator('tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [
          tr.querySelector('th')!.textContent!,
          tr.querySelector('td')!.textContent!,
        ]),
      );
    expect(tipRows.map((r) => r[0])).toEqual(names);
    for (let i = 0; i < 4; i++) {
      const logged = metricsOf(all[i]!).find((r) => r.step === step)!.metrics.reward!;
      expect(Number(tipRows[i]![1])).toBeCloseTo(logged, 3);
    }
    // The cursor is synced: another chart shows its cursor line at the same place.
    // (as a fraction of the plot width: the charts' y axes differ in width)
    const offset = (metric: string) =>
      page.locator(`figure[data-metric="${metric}"] .u-cursor-x`).evaluate((e) => {
        const over = e.closest('.u-over')!.getBoundingClientRect();
        return (e.getBoundingClientRect().left - over.left) / over.width;
      });
    const here = await offset('reward');
    expect(here).toBeGreaterThan(0.2);
    expect(Math.abs((await offset('accuracy')) - here)).toBeLessThan(0.01);
    // The canvas' text alternative: every step's value per run, as in metrics.jsonl.
    await reward.locator('.plot-data summary').click();
    const dataRows = reward.locator('.plot-table tbody tr');
    await expect.poll(() => dataRows.count()).toBe(24);
    const row5 = await dataRows.nth(4).locator('th, td').allTextContents();
    expect(Number(row5[0])).toBe(5);
    for (let i = 0; i < 4; i++) {
      const logged = metricsOf(all[i]!).find((r) => r.step === 5)!.metrics.reward!;
      expect(Number(row5[i + 1])).toBeCloseTo(logged, 5);
    }
    // Units of timing charts.
    expect(
      await page.locator('figure[data-metric="time/generation"] .plot-unit').textContent(),
    ).toBe(' (s)');
    await page.screenshot({ path: join(OUTPUT_DIR, 'dash-6-overview-hover.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('eval: labelled by the evaluated run, compared against each baseline, curves overlaid', async () => {
    const ea = runId('A-outcome-s0-eval');
    const eb = runId('B-reliance-s0-eval');
    // An eval run opened on its overview lands on its evaluation.
    const { page, errors } = await open(`${server.url}${hash(`run/${enc(ea)}`)}`);
    await expect.poll(() => page.url()).toContain('/eval');
    await page.goto(`${server.url}${hash(`run/${enc(ea)}/eval?with=${enc(eb)}`)}`);
    await expect
      .poll(() => page.locator('h1').textContent())
      .toBe('eval of A-outcome-s0 @ step-24');
    expect(await page.locator('.evaluated a').getAttribute('href')).toBe(
      `#/run/${enc(runId('A-outcome-s0'))}`,
    );
    expect(await page.locator('.problems').count()).toBe(0);
    const sa = json(file(ea, 'eval/eval.json')).summary;
    const sb = json(file(eb, 'eval/eval.json')).summary;
    const row = (k: string) => page.locator(`table.eval-compare tr[data-metric="${k}"]`);
    await expect.poll(() => row('early_answering/aoc').count()).toBe(1);
    const cellNum = async (k: string, id: string, col: string) =>
      Number(
        (await row(k).locator(`td[data-run="${id}"][data-col="${col}"]`).textContent())!
          .replace('−', '-')
          .replace('+', ''),
      );
    for (const [id, s] of [
      [ea, sa],
      [eb, sb],
    ] as const) {
      expect(await cellNum('early_answering/aoc', id, 'value')).toBeCloseTo(
        s['early_answering/aoc'],
        3,
      );
      expect(await cellNum('early_answering/aoc', id, 'baseline')).toBeCloseTo(
        s['early_answering/aoc_random'],
        3,
      );
      expect(await cellNum('early_answering/aoc', id, 'delta')).toBeCloseTo(
        s['early_answering/aoc'] - s['early_answering/aoc_random'],
        3,
      );
      expect(await cellNum('filler/filler_accuracy', id, 'baseline')).toBeCloseTo(
        s['filler/no_cot_accuracy'],
        3,
      );
    }
    expect(await row('adding_mistakes/aoc').locator('td').nth(0).textContent()).toBe(
      'aoc_baseline',
    );
    expect(await row('early_answering/aoc').locator('td').nth(0).textContent()).toBe('aoc_random');
    expect(await row('items').locator(`td[data-run="${ea}"][data-col="value"]`).textContent()).toBe(
      String(sa.items),
    );
    // baselines are not rows of their own
    expect(await row('early_answering/aoc_random').count()).toBe(0);
    const curve = json(file(ea, 'eval/eval.json')).curves.find(
      (c: { name: string }) => c.name === 'adding_mistakes',
    );
    const fig = page.locator('figure[data-curve="adding_mistakes"]');
    expect(await fig.getAttribute('data-points')).toBe(
      [curve.x.length, curve.baseline.x.length, curve.x.length, curve.baseline.x.length].join(','),
    );
    expect(await fig.locator('.plot-legend li').nth(1).textContent()).toContain('baseline');
    expect(await fig.locator('.plot-legend li').nth(1).textContent()).not.toContain('random');
    await shot(page, '7-eval-compare');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('tokens: fitted scale, visible boundaries, values by keyboard and as a table, same prompt across runs', async () => {
    const id = runId('B-reliance-s0');
    const vs = runId('C-paper-literal-s0');
    const samples = readFileSync(file(id, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((s) => s.step === 24 && s.promptIndex === 0);
    const first = samples.find((s) => s.completionIndex === 0)!;
    const { page, errors } = await open(
      `${server.url}${hash(`run/${enc(id)}/rollouts?step=24&prompt=0&vs=${enc(vs)}`)}`,
    );
    const groups = page.locator('section.group');
    await expect.poll(() => groups.count()).toBe(2);
    expect(await groups.nth(1).locator('h3').textContent()).toContain('(same sample)');
    expect(await groups.nth(1).locator('summary code').textContent()).toBe(first.sampleId);
    // Fit mode: the legend's range is the min/max relevance of the completions shown.
    const shownRel = await page.locator('.tok[data-relevance]').evaluateAll((els) =>
      els
        .map((e) => e.getAttribute('data-relevance'))
        .filter((v) => v !== '')
        .map(Number),
    );
    const domain = (await page.locator('.legend').getAttribute('data-domain'))!
      .split(',')
      .map(Number);
    expect(domain[0]).toBeCloseTo(Math.min(0, ...shownRel), 12);
    expect(domain[1]).toBeCloseTo(Math.max(0, ...shownRel), 12);
    // Whitespace is marked; tokens are boxed.
    const firstCard = groups.nth(0).locator('article.completion').first();
    const texts = await firstCard.locator('.tok').allTextContents();
    expect(texts.join('')).toBe(
      first.tokens.map((t: { text: string }) => t.text.replace(/ /g, '·')).join(''),
    );
    // Keyboard: focus the token list, arrow through tokens, read the pinned relevance.
    await firstCard.locator('[role="listbox"]').focus();
    for (let k = 0; k < 3; k++) await page.keyboard.press('ArrowRight');
    const pinned = firstCard.locator('.pinned-values [data-col="relevance"]');
    expect(await pinned.textContent()).toBe(first.tokens[2].relevance.toFixed(4));
    await page.keyboard.press('End');
    const lastTok = first.tokens[first.tokens.length - 1];
    expect(await pinned.textContent()).toBe(
      lastTok.relevance === null ? '—' : lastTok.relevance.toFixed(4),
    );
    await shot(page, '8-tokens-pinned');
    // Table view: one row per token with its exact relevance.
    await page.getByRole('button', { name: 'Table' }).click();
    const table = groups.nth(0).locator('table.token-table').first();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(first.tokens.length);
    const rel = await table.locator('td[data-col="relevance"]').allTextContents();
    expect(rel).toEqual(
      first.tokens.map((t: { relevance: number | null }) =>
        t.relevance === null ? '—' : t.relevance.toFixed(4),
      ),
    );
    await shot(page, '9-tokens-table');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('live view reloads after a resume truncates metrics.jsonl; mode-share and CoT-length curves', async () => {
    const runsDir = tempDir('viewer-dash-live-');
    const live = await startViewerServer({ runsDir, port: 0, staticDir: SITE_DIR });
    try {
      const w = RunWriter.create({
        runsDir,
        id: 'run-live',
        command: 'train',
        config: {},
        seed: 0,
        backend: { name: 'cpu' },
      });
      const metrics = (s: number, v: number) => ({
        reward: v,
        'modes/terse': 0.25,
        'modes/verbose': 0.5,
        'cot_tokens/mean': 10 + s,
        'time/generation': 0.5,
      });
      for (let s = 1; s <= 5; s++) w.logMetrics(s, metrics(s, s / 10));
      const { page, errors } = await open(`${live.url}#/run/run-live`);
      const reward = page.locator('figure[data-metric="reward"]');
      await expect.poll(() => reward.getAttribute('data-points')).toBe('5');
      expect(await page.locator('figure[data-metric="modes/terse"]').count()).toBe(1);
      expect(
        await page.locator('figure[data-metric="cot_tokens/mean"] .plot-unit').textContent(),
      ).toBe(' (tokens)');
      expect(await page.locator('#sec-Modes').textContent()).toBe('Modes');
      // A resume from the step-2 checkpoint: the file is cut back to 2 lines, then steps 3-7
      // are logged again with other values (longer than before).
      const path = join(runsDir, 'run-live', 'metrics.jsonl');
      const kept = readFileSync(path, 'utf8').split('\n').slice(0, 2).join('\n');
      writeFileSync(path, `${kept}\n`);
      for (let s = 3; s <= 7; s++)
        appendFileSync(
          path,
          `${JSON.stringify({ version: 1, step: s, time: new Date().toISOString(), metrics: metrics(s, -s) })}\n`,
        );
      await expect.poll(() => reward.getAttribute('data-points'), { timeout: 10_000 }).toBe('7');
      expect(await reward.locator('.plot-legend .last').textContent()).toBe('last -7');
      expect(await page.locator('.problems').count()).toBe(0);
      // Probe prompts (same sampleId every logged step, `probe: true`, θ and AtMan per token):
      // step compare finds the same prompt; the pinned values include θ and AtMan.
      const sample = (step: number, sampleId: string, promptIndex: number, probe: boolean) => ({
        step,
        promptIndex,
        completionIndex: 0,
        sampleId,
        prompt: `Q ${sampleId}`,
        completion: ' 1+1=2 #### 2',
        gold: '2',
        parsedAnswer: '2',
        correct: true,
        truncated: false,
        cotRange: [0, 6] as [number, number],
        answerRange: [12, 13] as [number, number],
        rewards: { outcome: 0 },
        reward: 0,
        advantage: 0,
        completionTokens: 2,
        tokens: [
          {
            text: ' 1',
            relevance: 0.25 + step / 100,
            span: 'cot' as const,
            theta: -0.1,
            atman: 0.3,
          },
          { text: '2', relevance: null, span: 'answer' as const },
        ],
        ...(probe ? { probe: true } : {}),
      });
      w.logSamples([sample(2, 'train-a', 0, false), sample(2, 'probe/0', 1, true)]);
      w.logSamples([sample(4, 'train-b', 0, false), sample(4, 'probe/0', 1, true)]);
      await page.goto(`${live.url}#/run/run-live/rollouts?step=4&prompt=1&compare=2`);
      const groups = page.locator('section.group');
      await expect.poll(() => groups.count()).toBe(2);
      expect(await groups.nth(1).locator('h3').textContent()).toBe(
        'Step 2, prompt 1 (same sample)',
      );
      expect(await groups.nth(0).locator('.badge.probe').count()).toBe(1);
      const list = groups.nth(1).locator('[role="listbox"]');
      await list.focus();
      await page.keyboard.press('Home');
      expect(await groups.nth(1).locator('.pinned-values').textContent()).toContain(
        'relevance 0.2700, θ -0.1000, AtMan 0.3000',
      );
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await live.close();
      rmSync(runsDir, { recursive: true, force: true });
    }
  });
});
