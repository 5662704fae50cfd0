// End-to-end (chromium): the experiment page answers the experiment's question (issue 34), on the
// committed experiments/modes-arms, and a folder of experiments (experiments/) lists them and
// finds their runs 4 folders deep. Every value is checked against the files: results.json for the
// means and sds, each seed's eval/eval.json for the per-seed ranges, REPORT.md for the reading.
// Screenshots go to test-output/ (the README's come from here).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startViewerServer, type ViewerServer } from '../src/server/serve.js';
import { OUTPUT_DIR, SITE_DIR } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const EXPERIMENTS = resolve(import.meta.dirname, '..', '..', '..', 'experiments');
const EXPERIMENT = join(EXPERIMENTS, 'modes-arms');
const ready = existsSync(CHROMIUM) && existsSync(join(EXPERIMENT, 'results.json'));
const LOAD = { timeout: 20_000 };

const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
/** The one run folder of a job folder. */
const runOf = (job: string) => {
  const dir = join(EXPERIMENT, 'runs', job);
  return join(dir, readdirSync(dir).find((d) => existsSync(join(dir, d, 'run.json')))!);
};
/** Seed s's evaluation summary of an arm: the eval of job `<arm>-s<s>`. */
const seedSummary = (arm: string, seed: number): Record<string, number> =>
  json(join(runOf(`${arm}-s${seed}-eval`), 'eval', 'eval.json')).summary;
/** Every run folder (a folder with run.json) under `dir`, not entering run folders. */
function runFolders(dir: string): string[] {
  if (existsSync(join(dir, 'run.json'))) return [dir];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.') && statSync(join(dir, n)).isDirectory())
    .flatMap((n) => runFolders(join(dir, n)));
}
const minus = (s: string) => s.replace(/−/g, '-');
/** Last finite value of a metric in a job's metrics.jsonl. */
const lastOf = (job: string, metric: string): number =>
  readFileSync(join(runOf(job), 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).metrics[metric])
    .filter((v): v is number => typeof v === 'number')
    .at(-1)!;
/** Parses the chart CSV (no quoted numbers; labels may be quoted). */
function parseCsv(text: string): { head: string[]; rows: string[][] } {
  const lines = text.trim().split('\r\n');
  const split = (l: string) =>
    (l.match(/("([^"]|"")*"|[^,]*)(,|$)/g) ?? [])
      .map((f) => f.replace(/,$/, ''))
      .map((f) => (f.startsWith('"') ? f.slice(1, -1).replace(/""/g, '"') : f))
      .slice(0, -1);
  return { head: split(lines[0]!), rows: lines.slice(1).map(split) };
}

describe.skipIf(!ready)('viewer experiment page e2e (chromium, experiments/modes-arms)', () => {
  let server: ViewerServer;
  let rootServer: ViewerServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startViewerServer({ runsDir: EXPERIMENT, staticDir: SITE_DIR });
    rootServer = await startViewerServer({ runsDir: EXPERIMENTS, staticDir: SITE_DIR });
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
    await rootServer?.close();
  });

  async function open(url: string, width = 1280): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    return { page, errors };
  }
  const shot = (page: Page, name: string, fullPage = false) =>
    page.screenshot({ path: join(OUTPUT_DIR, `exp-${name}.png`), fullPage });

  it('home page: each arm against A in CoT length and terse share, seed ranges, 2-sd marker, the reading', async () => {
    const results = json(join(EXPERIMENT, 'results.json'));
    const arms = Object.keys(results.arms);
    const { page, errors } = await open(server.url);
    const rows = page.locator('table.arms-table tbody tr');
    await expect.poll(() => rows.count(), LOAD).toBe(1 + arms.length);
    expect(await page.getByLabel('Control arm').inputValue()).toBe('A-outcome');
    // The measures of the experiment come first: CoT length, then the mode shares.
    const heads = await page
      .locator('table.arms-table thead th[data-metric]')
      .evaluateAll((ths) => ths.map((t) => t.getAttribute('data-metric')));
    expect(heads.slice(0, 4)).toEqual([
      'cot_tokens/mean',
      'modes/terse',
      'modes/verbose',
      'modes/bypass',
    ]);
    // Seed ranges need each seed's evaluation: wait for them (rows load lazily).
    await expect
      .poll(() => page.locator('tr[data-arm="B-reliance"] .cell-diff .range').count(), LOAD)
      .toBeGreaterThan(0);
    const A = 'A-outcome';
    for (const arm of arms.filter((a) => a !== A)) {
      for (const key of ['cot_tokens/mean', 'modes/terse']) {
        const cell = page.locator(`tr[data-arm="${arm}"] td[data-metric="${key}"]`);
        const s = results.arms[arm][key];
        const c = results.arms[A][key];
        const digits = key === 'cot_tokens/mean' ? 2 : 3;
        expect(await cell.locator('.cell-main').textContent()).toBe(
          `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`,
        );
        const diff = cell.locator('.cell-diff');
        const delta = s.mean - c.mean;
        expect(Number(await diff.getAttribute('data-delta'))).toBeCloseTo(delta, 12);
        const perSeed = [0, 1, 2].map((k) => seedSummary(arm, k)[key]! - seedSummary(A, k)[key]!);
        expect(Number(await diff.getAttribute('data-lo'))).toBeCloseTo(Math.min(...perSeed), 12);
        expect(Number(await diff.getAttribute('data-hi'))).toBeCloseTo(Math.max(...perSeed), 12);
        const text = minus((await diff.textContent()) ?? '');
        expect(text).toContain(`Δ ${delta >= 0 ? '+' : '-'}${Math.abs(delta).toFixed(digits)}`);
        expect(text).toContain(
          `[${minus(signedRef(Math.min(...perSeed), digits))}, ${minus(signedRef(Math.max(...perSeed), digits))}]`,
        );
        const beyond = Math.abs(delta) > 2 * Math.sqrt((s.std ** 2 + c.std ** 2) / 2);
        expect(await diff.locator('.beyond-mark').count(), `${arm} ${key}`).toBe(beyond ? 1 : 0);
        // Seen without scrolling sideways.
        const box = (await cell.boundingBox())!;
        expect(box.x + box.width).toBeLessThanOrEqual(1280);
      }
    }
    // B's and C's CoT differences from A lie beyond 2 seed sd (REPORT.md's reading says so).
    expect(
      await page
        .locator('tr[data-arm="B-reliance"] td[data-metric="cot_tokens/mean"] .beyond-mark')
        .count(),
    ).toBe(1);
    expect(
      await page
        .locator('tr[data-arm="A-outcome"] td[data-metric="cot_tokens/mean"]')
        .textContent(),
    ).toContain('control');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      1280,
    );
    // The report's reading beside the table, from REPORT.md's "## Reading" section.
    const report = readFileSync(join(EXPERIMENT, 'REPORT.md'), 'utf8').split('\n');
    const at = report.findIndex((l) => /^## Reading/.test(l));
    const firstLine = report
      .slice(at + 1)
      .find((l) => l.trim() !== '')!
      .trim();
    const notes = page.locator('.experiment-notes .notes-body');
    await expect.poll(() => notes.textContent(), LOAD).toContain(firstLine.slice(0, 60));
    const nb = (await page.locator('.experiment-notes').boundingBox())!;
    expect(nb.x + nb.width).toBeLessThanOrEqual(1280);
    await shot(page, '1-answer');
    // The predictions, from REPORT.md's "## Predictions" section.
    await page.getByRole('button', { name: 'Predictions' }).click();
    const p = report.findIndex((l) => /^## Predictions/.test(l));
    const pLine = report
      .slice(p + 1)
      .find((l) => l.trim() !== '' && !l.startsWith('#'))!
      .trim();
    expect(await notes.textContent()).toContain(pLine.slice(0, 40));
    // Another control: A's row now differs from B.
    await page.getByLabel('Control arm').selectOption('B-reliance');
    const aCell = page.locator(
      'tr[data-arm="A-outcome"] td[data-metric="cot_tokens/mean"] .cell-diff',
    );
    expect(Number(await aCell.getAttribute('data-delta'))).toBeCloseTo(
      results.arms[A]['cot_tokens/mean'].mean - results.arms['B-reliance']['cot_tokens/mean'].mean,
      12,
    );
    // Pinned arm column: scrolled sideways, the arm names stay at the left edge.
    await page.getByText(/^Measures/).click();
    await page.getByLabel('pass@4', { exact: true }).check();
    expect(await page.locator('thead th[data-metric="pass@4"]').count()).toBe(1);
    // Greedy accuracy has per-item values (each report's items): its marker uses the paired
    // per-item SE, computed here from the eval.json items of each seed pair (control B now).
    await page.getByLabel('greedy accuracy', { exact: true }).check();
    const ctrl = 'B-reliance';
    const itemsOf = (arm: string, k: number) =>
      new Map<string, number>(
        (
          json(join(runOf(`${arm}-s${k}-eval`), 'eval', 'eval.json')).items as {
            id?: string;
            correct?: boolean;
          }[]
        )
          .filter((it) => typeof it.id === 'string' && typeof it.correct === 'boolean')
          .map((it) => [it.id!, Number(it.correct)]),
      );
    for (const arm of arms.filter((a) => a !== ctrl)) {
      const perSeed = [0, 1, 2].map((k) => {
        const a = itemsOf(arm, k);
        const c = itemsOf(ctrl, k);
        const d = [...a].filter(([id]) => c.has(id)).map(([id, v]) => v - c.get(id)!);
        const m = d.reduce((x, y) => x + y, 0) / d.length;
        return { v: d.reduce((x, y) => x + (y - m) ** 2, 0) / (d.length - 1), n: d.length };
      });
      const se = Math.sqrt(perSeed.reduce((x, p) => x + p.v / p.n, 0)) / 3;
      const diff = page.locator(
        `tr[data-arm="${arm}"] td[data-metric="accuracy_greedy"] .cell-diff`,
      );
      await expect.poll(() => diff.getAttribute('data-se'), LOAD).not.toBeNull();
      expect(Number(await diff.getAttribute('data-se'))).toBeCloseTo(se, 12);
      const delta =
        results.arms[arm].accuracy_greedy.mean - results.arms[ctrl].accuracy_greedy.mean;
      expect(await diff.locator('.beyond-mark').count(), arm).toBe(
        Math.abs(delta) > 2 * se ? 1 : 0,
      );
    }
    const scroller = page.locator('.arms-scroll');
    const left0 = (await page.locator('tr[data-arm="B-reliance"] th').boundingBox())!.x;
    await scroller.evaluate((el) => {
      el.scrollLeft = 10_000;
    });
    expect(await scroller.evaluate((el) => el.scrollLeft)).toBeGreaterThan(0);
    expect((await page.locator('tr[data-arm="B-reliance"] th').boundingBox())!.x).toBeCloseTo(
      left0,
      0,
    );
    expect(
      await page.locator('thead th.arm-col').evaluate((el) => getComputedStyle(el).position),
    ).toBe('sticky');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('charts: seed bands per arm, legend dashes as drawn, hide a series, reset zoom, log y, CSV, jump links', async () => {
    const results = json(join(EXPERIMENT, 'results.json'));
    const arms = Object.keys(results.arms);
    const { page, errors } = await open(server.url);
    await page.getByRole('link', { name: 'training curves (12 runs)' }).click();
    await expect.poll(() => page.locator('.runs-legend li').count(), LOAD).toBe(12);
    const reward = page.locator('figure[data-metric="reward"]');
    // Titled after the overlay, not after one run.
    expect(await page.locator('#page-title').textContent()).toBe('12 runs overlaid');
    // The arms define the reward differently (run.json configs): the reward chart says so.
    const configs = arms.flatMap((a) =>
      [0, 1, 2].map(
        (k) => json(join(runOf(`${a}-s${k}`), 'run.json')).config as Record<string, unknown>,
      ),
    );
    const differing = [...new Set(configs.flatMap((c) => Object.keys(c)))]
      .filter((k) => /^(saliency(Reward|Weight|Direction|Gate)|reward\w*|scaleRewards)$/.test(k))
      .filter((k) => new Set(configs.map((c) => JSON.stringify(c[k] ?? null))).size > 1)
      .sort();
    expect(differing.length).toBeGreaterThan(0);
    await expect
      .poll(() => reward.locator('.plot-caption').textContent())
      .toContain(`the runs define the reward differently (${differing.join(', ')})`);
    // Legend swatches carry each seed's own dash, as the chart draws it (solid, 6 3, 2 3).
    const dashes = await reward
      .locator('.plot-legend li[data-series^="A-outcome-s"] .swatch-line')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-dash')));
    expect(dashes.sort()).toEqual(['2 3', '6 3', 'solid']);
    await page.getByLabel('Mean per arm (over its seeds)').check();
    await expect.poll(() => reward.getAttribute('data-bands')).toBe(String(arms.length));
    expect(await reward.locator('.plot-caption').textContent()).toContain('min–max over the seeds');
    // CSV: the band edges and the mean at the last step, against the seeds' metrics.jsonl.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      reward.getByRole('button', { name: 'CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('reward.csv');
    const csv = parseCsv(readFileSync((await download.path())!, 'utf8'));
    expect(csv.head[0]).toBe('step');
    const last = csv.rows.at(-1)!;
    expect(Number(last[0])).toBe(12);
    for (const arm of arms) {
      const seeds = [0, 1, 2].map((k) => lastOf(`${arm}-s${k}`, 'reward'));
      const col = (l: string) => Number(last[csv.head.indexOf(l)]);
      expect(col(`${arm} (mean of 3)`)).toBeCloseTo((seeds[0]! + seeds[1]! + seeds[2]!) / 3, 12);
      expect(col(`${arm} (mean of 3) max`)).toBe(Math.max(...seeds));
      expect(col(`${arm} (mean of 3) min`)).toBe(Math.min(...seeds));
    }
    // A legend click hides the series (and its band), a second shows it again.
    const aButton = reward.locator('li[data-series="A-outcome (mean of 3)"] button');
    await aButton.click();
    expect(await aButton.getAttribute('aria-pressed')).toBe('false');
    expect(await reward.getAttribute('data-hidden')).toBe('A-outcome (mean of 3)');
    await aButton.click();
    expect(await reward.getAttribute('data-hidden')).toBe('');
    // Zoom by dragging, then reset.
    const reset = reward.getByRole('button', { name: 'Reset zoom' });
    expect(await reset.isDisabled()).toBe(true);
    const over = (await reward.locator('.u-over').boundingBox())!;
    await page.mouse.move(over.x + over.width * 0.3, over.y + over.height / 2);
    await page.mouse.down();
    await page.mouse.move(over.x + over.width * 0.6, over.y + over.height / 2, { steps: 5 });
    await page.mouse.up();
    await expect.poll(() => reset.isDisabled()).toBe(false);
    const zoomed = (await reward.getAttribute('data-xrange'))!.split(',').map(Number);
    expect(zoomed[0]).toBeGreaterThan(1);
    expect(zoomed[1]).toBeLessThan(12);
    // the charts share the zoom (one cursor group), and the reset
    const length = page.locator('figure[data-metric="completions/mean_length"]');
    expect(await length.getAttribute('data-xrange')).toBe(zoomed.join(','));
    await reset.click();
    expect(await reward.getAttribute('data-xrange')).toBe('1,12');
    expect(await length.getAttribute('data-xrange')).toBe('1,12');
    // Log y: refused where values are ≤ 0 (reward), offered for a length.
    expect(await reward.getByLabel('log y').isDisabled()).toBe(true);
    await length.getByLabel('log y').check();
    await expect.poll(() => length.getAttribute('data-log')).toBe('true');
    // Jump links move focus to a chart group.
    const jump = page.locator('nav.chart-jump button');
    expect(await jump.count()).toBeGreaterThan(1);
    const title = (await jump.nth(1).textContent())!;
    await jump.nth(1).click();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(title);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, '3-arm-bands');
    // The page's own run can be unticked: the first overlaid run takes its place.
    const own = page.locator('fieldset.overlay label').first();
    expect((await own.textContent())?.trim()).toBe('A-outcome-s0');
    await own.locator('input').click(); // one click: the page then belongs to another run
    await expect.poll(() => page.locator('#page-title').textContent()).toBe('11 runs overlaid');
    expect(page.url()).toContain(
      `#/run/${encodeURIComponent(runOf('A-outcome-s1').slice(EXPERIMENT.length + 1))}?with=`,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('rollouts: mode and CoT length on each card, prompt picker sorts and filters, opens on a differing group; train <-> eval links', async () => {
    const run = runOf('B-reliance-s0');
    const id = run.slice(EXPERIMENT.length + 1);
    type S = {
      step: number;
      promptIndex: number;
      completionIndex: number;
      completion: string;
      correct: boolean;
      advantage: number;
      mode?: string;
      cotTokens?: number;
    };
    const samples: S[] = readFileSync(join(run, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const lastStep = Math.max(...samples.map((x) => x.step));
    const byPrompt = new Map<number, S[]>();
    for (const x of samples.filter((x) => x.step === lastStep))
      byPrompt.set(x.promptIndex, [...(byPrompt.get(x.promptIndex) ?? []), x]);
    const prompts = [...byPrompt.keys()].sort((a, b) => a - b);
    const spread = (p: number) => {
      const a = byPrompt.get(p)!.map((x) => x.advantage);
      return Math.max(...a) - Math.min(...a);
    };
    const differ = (p: number) => new Set(byPrompt.get(p)!.map((x) => x.completion)).size > 1;
    const correct = (p: number) => byPrompt.get(p)!.filter((x) => x.correct).length;
    // The page opens on the differing group with the widest advantage spread.
    let want = prompts[0]!;
    let best = -1;
    for (const p of prompts)
      if (differ(p) && spread(p) > best) {
        want = p;
        best = spread(p);
      }
    const { page, errors } = await open(`${server.url}#/run/${encodeURIComponent(id)}/rollouts`);
    const heading = page.locator('section.group h3').first();
    await expect.poll(() => heading.textContent(), LOAD).toBe(`Step ${lastStep}, prompt ${want}`);
    // Each card: its mode and CoT length, as samples.jsonl has them.
    const cards = page.locator('section.group').first().locator('article.completion');
    const group = byPrompt.get(want)!.sort((a, b) => a.completionIndex - b.completionIndex);
    expect(await cards.count()).toBe(group.length);
    for (let i = 0; i < group.length; i++) {
      expect(await cards.nth(i).locator('.badge.mode').textContent()).toBe(group[i]!.mode);
      expect(await cards.nth(i).locator('dd[data-cot]').textContent()).toBe(
        `${group[i]!.cotTokens} tokens`,
      );
    }
    const groupSelect = page.locator('select[data-pick="group"]');
    const optionIds = () =>
      groupSelect
        .locator('option')
        .evaluateAll((os) => os.map((o) => Number((o as HTMLOptionElement).value)));
    // Sort by spread: widest first, ties in prompt order.
    await page.locator('select[data-pick="sort"]').selectOption('spread');
    const bySpread = [...prompts].sort((a, b) => spread(b) - spread(a) || a - b);
    expect(await optionIds()).toEqual(bySpread);
    // Filter: no completion correct.
    await page.locator('select[data-pick="sort"]').selectOption('index');
    await page.locator('select[data-pick="correct"]').selectOption('none');
    const none = prompts.filter((p) => correct(p) === 0);
    await expect
      .poll(() => page.locator('.prompt-pick .hint').textContent())
      .toBe(`${none.length} of ${prompts.length} groups`);
    if (none.length > 0) {
      await expect.poll(() => heading.textContent()).toBe(`Step ${lastStep}, prompt ${none[0]}`);
      expect(await optionIds()).toEqual(none);
    }
    await page.locator('select[data-pick="correct"]').selectOption('any');
    // Filter: groups where some completion is verbose.
    await page.locator('select[data-pick="mode"]').selectOption('verbose');
    const verbose = prompts.filter((p) => byPrompt.get(p)!.some((x) => x.mode === 'verbose'));
    await expect
      .poll(() => page.locator('.prompt-pick .hint').textContent())
      .toBe(`${verbose.length} of ${prompts.length} groups`);
    await shot(page, '4-rollout-triage');
    // The training run links to its evaluation run, which links back.
    await page.getByRole('link', { name: 'Evaluation', exact: true }).click();
    const evalRun = runOf('B-reliance-s0-eval').slice(EXPERIMENT.length + 1);
    const link = page.locator(`.related-runs a[data-eval-run="${evalRun}"]`);
    await expect.poll(() => link.count(), LOAD).toBe(1);
    expect(await link.textContent()).toBe('step-12');
    await link.click();
    const back = page.locator('.evaluated a');
    await expect.poll(() => back.textContent(), LOAD).toBe('B-reliance-s0');
    expect(await back.getAttribute('href')).toBe(`#/run/${encodeURIComponent(id)}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('saliency: per run and per arm over steps (share > 0, by token kind, by position), against samples.jsonl', async () => {
    const results = json(join(EXPERIMENT, 'results.json'));
    const arms = Object.keys(results.arms);
    /** Independent reference: per step, CoT relevances of a job's samples.jsonl. */
    const cotAt = (job: string) => {
      const by = new Map<number, { text: string; r: number }[]>();
      for (const l of readFileSync(join(runOf(job), 'samples.jsonl'), 'utf8')
        .trim()
        .split('\n')) {
        const x = JSON.parse(l) as {
          step: number;
          tokens: { text: string; relevance: number | null; span: string }[];
        };
        const list = by.get(x.step) ?? [];
        for (const t of x.tokens)
          if (t.span === 'cot' && typeof t.relevance === 'number')
            list.push({ text: t.text, r: t.relevance });
        by.set(x.step, list);
      }
      return by;
    };
    const { page, errors } = await open(server.url);
    await page.getByRole('link', { name: 'saliency (12 runs)' }).click();
    const share = page.locator('figure[data-metric="cot relevance > 0 (share of tokens)"]');
    await expect.poll(() => share.count(), { timeout: 60_000 }).toBe(1);
    await expect.poll(() => page.locator('.runs-legend li').count(), { timeout: 60_000 }).toBe(12);
    await page.getByLabel('Mean per arm (over its seeds)').check();
    await expect.poll(() => share.getAttribute('data-bands')).toBe(String(arms.length));
    const csvOf = async (fig: ReturnType<Page['locator']>) => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        fig.getByRole('button', { name: 'CSV' }).click(),
      ]);
      return parseCsv(readFileSync((await download.path())!, 'utf8'));
    };
    const csv = await csvOf(share);
    const lastRow = csv.rows.at(-1)!;
    const lastStep = Number(lastRow[0]);
    for (const arm of arms) {
      const perSeed = [0, 1, 2].map((k) => {
        const toks = cotAt(`${arm}-s${k}`).get(lastStep)!;
        return toks.filter((t) => t.r > 0).length / toks.length;
      });
      const col = (l: string) => Number(lastRow[csv.head.indexOf(l)]);
      expect(col(`${arm} (mean of 3)`)).toBeCloseTo(
        (perSeed[0]! + perSeed[1]! + perSeed[2]!) / 3,
        12,
      );
      expect(col(`${arm} (mean of 3) max`)).toBeCloseTo(Math.max(...perSeed), 12);
      expect(col(`${arm} (mean of 3) min`)).toBeCloseTo(Math.min(...perSeed), 12);
    }
    // By token kind, per run: digits' mean relevance of B-reliance-s0 at each step.
    await page.getByLabel('Mean per arm (over its seeds)').uncheck();
    const digits = await csvOf(page.locator('figure[data-metric="relevance of digits"]'));
    const b0 = cotAt('B-reliance-s0');
    const colB = digits.head.indexOf('B-reliance-s0');
    expect(colB).toBeGreaterThan(0);
    for (const row of digits.rows) {
      const d = b0.get(Number(row[0]))!.filter((t) => /^\d+$/.test(t.text.trim()));
      expect(Number(row[colB])).toBeCloseTo(d.reduce((a, t) => a + t.r, 0) / d.length, 12);
    }
    expect(await page.locator('figure[data-metric^="relevance at "]').count()).toBe(5);
    await page.getByLabel('Mean per arm (over its seeds)').check();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, '5-saliency');
    expect(errors).toEqual([]);
    await page.close();
  });

  it("eval page: the start evaluation ticked by default, mean per arm with the seeds' band", async () => {
    const results = json(join(EXPERIMENT, 'results.json'));
    const arms = Object.keys(results.arms);
    const { page, errors } = await open(server.url);
    const link = page.getByRole('link', { name: `evals (${3 * arms.length + 1} runs)` });
    await expect.poll(() => link.count(), LOAD).toBe(1);
    await link.click();
    // The start evaluation leads (the page's own run), then every arm's seeds.
    await expect
      .poll(() => page.locator('#page-title').textContent(), LOAD)
      .toBe('eval of sft-model');
    const table = page.locator('section[data-report="eval"] table.eval-compare');
    await expect
      .poll(() => table.locator('thead th.run-col').count(), LOAD)
      .toBe(3 * arms.length + 1);
    await page.getByLabel('Mean per arm (over its seeds)').check();
    await expect.poll(() => table.locator('thead th.run-col').count()).toBe(arms.length + 1);
    // Each arm's mean of pass@1 and CoT length equals results.json's (4 decimals as the table prints).
    const heads = await table.locator('thead th.run-col').allTextContents();
    for (const arm of arms) {
      const i = heads.findIndex((h) => h.includes(`${arm} (mean of 3)`));
      expect(i).toBeGreaterThan(0);
      for (const key of ['pass@1', 'cot_tokens/mean']) {
        const cell = table.locator(`tr[data-metric="${key}"] td[data-col="value"]`).nth(i);
        expect(await cell.textContent()).toBe(results.arms[arm][key].mean.toFixed(4));
      }
    }
    // The early-answering curve: the arm's mean and band against the seeds' eval.json curves.
    const fig = page.locator('section[data-report="eval"] figure[data-curve="early_answering"]');
    await expect.poll(() => fig.getAttribute('data-bands')).toBe(String(arms.length));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      fig.getByRole('button', { name: 'CSV' }).click(),
    ]);
    const csv = parseCsv(readFileSync((await download.path())!, 'utf8'));
    const curves = [0, 1, 2].map(
      (k) =>
        json(join(runOf(`A-outcome-s${k}-eval`), 'eval', 'eval.json')).curves.find(
          (c: { name: string }) => c.name === 'early_answering',
        ) as { x: number[]; y: number[] },
    );
    const col = (l: string) => csv.head.indexOf(l);
    curves[0]!.x.forEach((x, r) => {
      const row = csv.rows.find((w) => Number(w[0]) === x)!;
      const ys = curves.map((c) => c.y[r]!);
      expect(Number(row[col('A-outcome (mean of 3)')])).toBeCloseTo(
        (ys[0]! + ys[1]! + ys[2]!) / 3,
        12,
      );
      expect(Number(row[col('A-outcome (mean of 3) max')])).toBe(Math.max(...ys));
      expect(Number(row[col('A-outcome (mean of 3) min')])).toBe(Math.min(...ys));
    });
    await shot(page, '6-eval-arm-means');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('at 420 px the experiment page does not scroll sideways: arm names and the CoT column fit', async () => {
    const { page, errors } = await open(server.url, 420);
    const cell = page.locator('tr[data-arm="B-reliance"] td[data-metric="cot_tokens/mean"]');
    await expect.poll(() => cell.count(), LOAD).toBe(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      420,
    );
    const arm = (await page.locator('tr[data-arm="B-reliance"] th').boundingBox())!;
    const box = (await cell.boundingBox())!;
    expect(arm.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(420);
    await shot(page, '7-experiment-420px', true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a folder of experiments lists them, finds runs 4 folders deep, and opens each experiment', async () => {
    const { page, errors } = await open(rootServer.url);
    const expected = readdirSync(EXPERIMENTS)
      .filter((n) => statSync(join(EXPERIMENTS, n)).isDirectory())
      .filter(
        (n) =>
          existsSync(join(EXPERIMENTS, n, 'results.json')) ||
          existsSync(join(EXPERIMENTS, n, 'REPORT.md')),
      )
      .sort();
    const items = page.locator('.experiment-list li[data-experiment]');
    await expect.poll(() => items.count(), LOAD).toBe(expected.length);
    expect(
      await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-experiment'))),
    ).toEqual(expected);
    const title = readFileSync(join(EXPERIMENT, 'REPORT.md'), 'utf8')
      .split('\n')[0]!
      .slice(2)
      .replace(/`/g, '');
    expect(await page.locator('li[data-experiment="modes-arms"] a').textContent()).toBe(title);
    // Every run of every experiment is found (they sit 4 folders deep).
    const all = runFolders(EXPERIMENTS).length;
    await expect
      .poll(() => page.locator('table.runs-table tr[data-run]').count(), { timeout: 60_000 })
      .toBe(all);
    expect(await page.getByText('No runs in this folder yet').count()).toBe(0);
    // Arms of different experiments are grouped apart: modes-arms' A-outcome holds its 3 seeds
    // and their 3 evals only.
    const group = page.locator('tbody[data-group="modes-arms/A-outcome"] tr[data-run]');
    await expect.poll(() => group.count(), { timeout: 60_000 }).toBe(6);
    const groupIds = await group.evaluateAll((trs) => trs.map((t) => t.getAttribute('data-run')));
    expect(groupIds.every((id) => id?.startsWith('modes-arms/runs/A-outcome-s'))).toBe(true);
    await shot(page, '2-experiments');
    await page.locator('li[data-experiment="modes-arms"] a').click();
    expect(page.url()).toContain('#/exp/modes-arms');
    const results = json(join(EXPERIMENT, 'results.json'));
    await expect
      .poll(() => page.locator('table.arms-table tbody tr').count(), LOAD)
      .toBe(1 + Object.keys(results.arms).length);
    // Only this experiment's runs are listed under it.
    await expect
      .poll(() => page.locator('table.runs-table tr[data-run]').count(), LOAD)
      .toBe(runFolders(EXPERIMENT).length);
    const ids = await page
      .locator('table.runs-table tr[data-run]')
      .evaluateAll((trs) => trs.map((t) => t.getAttribute('data-run')));
    expect(ids.every((id) => id?.startsWith('modes-arms/runs/'))).toBe(true);
    // Inside one experiment the arms go by their own names.
    expect(await page.locator('tbody[data-group="A-outcome"] tr[data-run]').count()).toBe(6);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the answer label of a rollout card never wraps inside its word (320–700 px)', async () => {
    // Arm C's completions are verbose (about 50 tokens): they wrap at these widths.
    const run = runOf('C-paper-literal-s0');
    const id = run.slice(EXPERIMENT.length + 1);
    const { page, errors } = await open(
      `${server.url}#/run/${encodeURIComponent(id)}/rollouts`,
      420,
    );
    const labels = page.locator('.answer-label');
    await expect.poll(() => labels.count(), LOAD).toBeGreaterThan(0);
    // Tokens are boxes with no spaces between them (a space token shows as "·"), so a completion
    // is one long word that the card's word-break cuts anywhere, the label "answer" included
    // ("ans" / "wer"), wherever a line ends inside it. Widths from 320 to 700 px put some label
    // at a line end.
    let wrapped = 0;
    let wrappedCards = 0;
    for (let width = 320; width <= 700; width += 10) {
      await page.setViewportSize({ width, height: 900 });
      const rects = await labels.evaluateAll((els) => els.map((e) => e.getClientRects().length));
      wrapped += rects.filter((n) => n !== 1).length;
      // the completions do wrap (the check is not vacuous)
      const tall = await page
        .locator('.tokens')
        .evaluateAll((els) => els.filter((e) => e.getBoundingClientRect().height > 80).length);
      wrappedCards += tall;
    }
    expect(wrappedCards).toBeGreaterThan(0);
    expect(wrapped).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});

/** The page's signed format (independent copy: sign, then the magnitude). */
function signedRef(v: number, digits: number): string {
  const s = Math.abs(v).toFixed(digits);
  if (Number(s) === 0) return `±${s}`;
  return `${v < 0 ? '-' : '+'}${s}`;
}
