/**
 * The details a first look at the admin UI trips over, in real headless Chromium against a real
 * server: no console message of any kind on any page, the audit log's changes in words, money
 * with the precision it needs, one name for a price's source, layouts measured at 1,440 px and on
 * a phone (overflow by element geometry, chart labels by what the canvas drew), and "Try it" with
 * a pasted token. Screenshots land in test-results/screenshots/ (details-*).
 */
import OpenAI from 'openai';
import type { ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../../src/mock-upstream/index.js';
import { type BrowserSession, startBrowser } from '../helpers/browser.js';
import { UPSTREAM_KEY } from '../helpers/proxy.js';
import { registerSecret } from '../helpers/secret-watch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';
import { signedIn, withSession } from '../helpers/session.js';

// Browser globals, for the callbacks that page.evaluate runs in the page (this file's own types are Node's).
declare const document: any;
declare const window: any;
declare const getComputedStyle: any;

const hasChromium = await serviceAvailable('chromium');
const DESKTOP_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe.runIf(hasChromium)('admin UI details', () => {
  let mock: MockUpstream;
  let s: TestServer;
  let browser: BrowserSession;
  const ids: Record<string, string> = {};
  let pastedToken = '';
  /** When the usage the charts show was made (just after its last request). */
  let requestsAt = 0;

  beforeAll(async () => {
    mock = await startMockUpstream({ apiKey: UPSTREAM_KEY });
    s = await startTestServer({ OPENAI_API_URL: mock.url, USAGE_FLUSH_INTERVAL_MS: '20' });
    const project = await s.manage('POST', '/projects', { name: 'web-frontend', api_key: UPSTREAM_KEY });
    ids.project = project.body.id;
    const issue = async (body: object) => {
      const t = (await s.manage('POST', '/tokens', { project_id: ids.project, ...body })).body;
      registerSecret(t.token);
      return t as { id: string; token: string };
    };
    const ci = await issue({ name: 'ci-main', budget_usd: 5, max_requests: 100 });
    ids.token = ci.id;
    for (let i = 0; i < 5; i++) await issue({ name: `a-rather-long-token-name-${i}`, duration_minutes: 600 });
    pastedToken = (await issue({ name: 'pasted-elsewhere' })).token;
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: ci.token, maxRetries: 0 });
    for (let i = 0; i < 3; i++)
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hi ${i}` }] });
    requestsAt = Date.now();
    await s.manage('PUT', '/pricing/llama-3-local', { input: 0.2, output: 0.6 });
    await s.manage('DELETE', '/pricing/llama-3-local');
    const bob = await s.manage('POST', '/users', { username: 'bob', role: 'viewer', password: 'a-long-password-1' });
    await s.manage('DELETE', `/users/${bob.body.id}`);
    // An admin user signed in from a desktop browser changes a price: a user actor (an id) in the audit log, a session with a long user agent.
    await s.manage('POST', '/users', { username: 'alice', role: 'admin', password: 'another-long-password-2' });
    const alice = await signedIn(
      s.url,
      { username: 'alice', password: 'another-long-password-2' },
      { 'user-agent': DESKTOP_UA },
    );
    await withSession(s.url, alice, 'PUT', '/pricing/alice-model', { input: 1.125, output: 4.5 });
    await s.server.runtime.usage.flush();
    browser = await startBrowser(s.url);
  });

  afterAll(async () => {
    await browser?.close();
    await s?.stop();
    await mock?.close();
  });

  /** Signs the browser in through the API (the cookie lands in the browser's jar), without a page. */
  async function signInByApi(): Promise<void> {
    await browser.context.clearCookies();
    const r = await browser.context.request.post(`${s.url}/manage/session`, { data: { token: s.managementToken } });
    expect(r.status()).toBe(200);
  }

  const PAGES = () => [
    '/',
    '/projects',
    `/projects/${ids.project}`,
    '/tokens',
    `/tokens/${ids.token}`,
    '/try',
    '/audit',
    '/pricing',
    '/users',
    '/help',
  ];

  it('logs nothing at all in the console on any page, loaded afresh (headers included)', async () => {
    await signInByApi();
    const page = await browser.page();
    const messages: string[] = [];
    const record = (m: ConsoleMessage) => messages.push(`${m.type()}: ${m.text()} (${page.url()})`);
    page.on('console', record);
    for (const path of PAGES()) {
      await page.goto(`${s.url}/admin${path}`);
      await page.getByRole('heading', { level: 1 }).first().waitFor();
      await page.waitForFunction(() => document.querySelector('.skeleton') === null);
    }
    page.off('console', record);
    await page.close();
    expect(messages).toEqual([]);
  });

  /** How far each element matching `selector` is wider than its box (0 when it fits). */
  const overflowOf = (page: Page, selector: string) =>
    page.evaluate(
      (sel) =>
        [...document.querySelectorAll(sel)].map((e: { scrollWidth: number; clientWidth: number }) =>
          Math.max(0, e.scrollWidth - e.clientWidth),
        ),
      selector,
    );

  it('says what an audit event changed in words, deletions as removed, in a table that fits its card at 1,440 px', async () => {
    await signInByApi();
    const page = await browser.page({ width: 1440, height: 900 });
    await page.goto(`${s.url}/admin/audit`);
    const row = (action: string) => page.getByRole('row').filter({ has: page.getByText(action, { exact: true }) });
    await row('user.deleted').waitFor();
    // The fifth column, "What".
    const what = await page.locator('tbody tr td:nth-child(5)').allTextContents();
    expect(what.length).toBeGreaterThan(10);
    expect(what.filter((w) => w.includes('undefined'))).toEqual([]);
    expect(await row('user.deleted').getByRole('cell').nth(4).textContent()).toMatch(/removed.*username "bob"/);
    expect(await row('pricing.unset').getByRole('cell').nth(4).textContent()).toMatch(/removed.*input 0\.2/);
    expect(await row('project.created').getByRole('cell').nth(4).textContent()).toContain('name "web-frontend"');
    expect(await overflowOf(page, '.table-wrap')).toEqual([0]);

    // Details: the changes as a before/after list, not a block of JSON, and still nothing overflows.
    for (const action of ['user.deleted', 'project.created', 'pricing.unset']) {
      await row(action).getByRole('button', { name: 'Details' }).click();
    }
    const details = page.getByRole('region', { name: /^Event \d+ in full$/ });
    await expect.poll(() => details.count()).toBe(3);
    const deleted = page.getByRole('region', { name: /^Event \d+ in full$/ }).filter({ hasText: 'bob' });
    const cells = await deleted.getByRole('row').filter({ hasText: 'username' }).getByRole('cell').allTextContents();
    expect(cells).toEqual(['username', '"bob"', 'removed']);
    expect(await deleted.textContent()).not.toContain('{');
    expect(await overflowOf(page, '.table-wrap')).toEqual([0]);
    expect((await overflowOf(page, 'main section[aria-label$=" in full"] *')).filter((o) => o > 0)).toEqual([]);
    await browser.screenshot(page, 'details-audit-wide');

    // The action filter speaks the audit trail's one naming scheme: token batches are token.batch_*.
    const other = await s.manage('POST', '/projects', { name: 'batch-project', api_key: UPSTREAM_KEY });
    await s.manage('POST', '/tokens/batch', { project_id: other.body.id, count: 2, name_prefix: 'ws-' });
    await page.getByLabel('Action').selectOption({ label: 'Token batches' });
    await row('token.batch_created').waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
  });

  it('shows that a table scrolls sideways on a phone, where it does', async () => {
    await signInByApi();
    const page = await browser.page({ width: 390, height: 844 });
    for (const path of ['/tokens', `/projects/${ids.project}`]) {
      await page.goto(`${s.url}/admin${path}`);
      await page.getByRole('link', { name: 'a-rather-long-token-name-4' }).waitFor();
      const wraps = await page.evaluate(() =>
        [...document.querySelectorAll('.table-wrap')].map((e: any) => ({
          overflows: e.scrollWidth > e.clientWidth,
          cue: e.closest('.table-scroll')?.dataset.scroll,
          hint: e.closest('.table-scroll')?.querySelector('.scroll-hint')?.checkVisibility() ?? false,
        })),
      );
      expect(wraps.length).toBeGreaterThan(0);
      for (const w of wraps) expect({ path, ...w }).toEqual({ path, overflows: true, cue: 'start', hint: true });
      // Scrolled to the end, the cue says there is more to the left.
      await page
        .locator('.table-wrap')
        .first()
        .evaluate((e: any) => e.scrollTo({ left: e.scrollWidth }));
      await page.waitForFunction(() => document.querySelector('.table-scroll')?.dataset.scroll === 'end');
      await browser.screenshot(page, `details-scroll-${path.split('/')[1]}-phone`);
    }
    // At 1,440 px the tokens table fits: no cue.
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${s.url}/admin/tokens`);
    await page.getByRole('link', { name: 'a-rather-long-token-name-4' }).waitFor();
    await page.waitForFunction(() => document.querySelector('.table-scroll')?.dataset.scroll === 'none');
    expect(await page.locator('.scroll-hint').count()).toBe(0);
    await page.close();
  });

  it('shows sessions’ user agents whole or cut with an ellipsis, and Remove styled like Edit', async () => {
    await signInByApi();
    const page = await browser.page({ width: 1440, height: 900 });
    await page.goto(`${s.url}/admin/users`);
    const ua = page.getByText(/^Mozilla\/5\.0 \(Macintosh/);
    await ua.waitFor();
    const look = await ua.evaluate((el: any) => {
      const css = getComputedStyle(el);
      return {
        text: el.textContent,
        title: el.title,
        cut: el.scrollWidth > el.clientWidth,
        ellipsis: css.textOverflow === 'ellipsis' && css.overflow === 'hidden' && css.whiteSpace === 'nowrap',
      };
    });
    expect(look).toEqual({ text: DESKTOP_UA, title: DESKTOP_UA, cut: look.cut, ellipsis: true });
    const edit = page.getByRole('button', { name: 'Edit alice' });
    const remove = page.getByRole('button', { name: 'Remove alice' });
    expect(await remove.getAttribute('class')).toBe(await edit.getAttribute('class'));
    await browser.screenshot(page, 'details-users');
    await page.close();
  });

  it('shows a budget left as precise as the spend it hides, and the spend itself', async () => {
    await signInByApi();
    const page = await browser.page();
    await page.goto(`${s.url}/admin/tokens/${ids.token}`);
    const spent = (await s.manage('GET', `/tokens/${ids.token}`)).body.usage.cost_nano_usd as number;
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThan(10_000_000); // under a cent: where "$5.00" hid it
    const stat = page.getByTestId('budget-left');
    await stat.locator('.stat-sub').filter({ hasText: 'of $5.00 lifetime' }).waitFor();
    const left = (await stat.locator('.stat-value').textContent()) ?? '';
    expect(left).toMatch(/^\$4\.99\d+$/);
    // What is left and what was spent add up to the budget, to the nano-dollar.
    expect(Math.round(Number(left.slice(1)) * 1e9) + spent).toBe(5_000_000_000);
    expect(await stat.locator('.stat-sub').textContent()).toBe(
      `$${(spent / 1e9).toFixed(9).replace(/0+$/, '')} of $5.00 lifetime`,
    );
    await browser.screenshot(page, 'details-token-budget');
    await page.close();
  });

  it('names price sources as the API and CLI do, and shows prices as currency', async () => {
    await signInByApi();
    const page = await browser.page();
    await page.goto(`${s.url}/admin/pricing`);
    await page.getByLabel('Filter models').fill('gpt-4.1-mini');
    const row = page.getByRole('row').filter({ hasText: 'gpt-4.1-mini' }).first();
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    const api = (await s.manage('GET', '/pricing')).body.data.find(
      (p: { model: string }) => p.model === 'gpt-4.1-mini',
    );
    expect(api).toMatchObject({ source: 'built_in', input: 0.4, cached_input: 0.1, output: 1.6 });
    expect(cells.slice(0, 5)).toEqual(['gpt-4.1-mini', 'built_in', '$0.40', '$0.10', '$1.60']);
    await browser.screenshot(page, 'details-pricing');
    await page.close();
  });

  it('shows every billed unit: per image, per minute, audio rates, tiers and tool fees; an edit keeps what it does not show', async () => {
    await signInByApi();
    const page = await browser.page();
    await page.goto(`${s.url}/admin/pricing`);
    await page.getByLabel('Filter models').fill('dall-e-3');
    const dalle = page.getByRole('row').filter({ hasText: 'dall-e-3' }).first();
    await dalle.waitFor();
    expect(await dalle.getByRole('cell').nth(6).textContent()).toContain(
      '1024x1024: standard $0.04, hd $0.08 per image',
    );
    await page.getByLabel('Filter models').fill('whisper-1');
    await page.getByRole('row').filter({ hasText: '$0.006 per minute' }).first().waitFor();
    await page.getByLabel('Filter models').fill('gpt-realtime-mini');
    await page.getByRole('row').filter({ hasText: 'Audio in/out $10 / $20' }).first().waitFor();
    expect(await page.getByTestId('tool-fees').textContent()).toContain('web_search $10 (gpt-4o $25) (gpt-4.1 $25)');
    expect(await page.getByTestId('tool-fees').textContent()).toContain('flex ×0.5');

    // Editing gpt-4o's output keeps its priority rates, which the form does not show.
    await page.getByLabel('Filter models').fill('gpt-4o');
    await page.getByRole('button', { name: 'Edit the price of gpt-4o', exact: true }).click();
    await page.getByLabel('Audio output ($ / 1M)').fill('90');
    await page.getByRole('button', { name: 'Save price' }).click();
    await page.getByRole('row').filter({ hasText: 'Audio in/out – / $90' }).first().waitFor();
    const api = (await s.manage('GET', '/pricing')).body.data.find((p: { model: string }) => p.model === 'gpt-4o');
    expect(api).toMatchObject({
      source: 'override',
      audio_output: 90,
      tiers: { priority: { input: 4.25, cached_input: 2.125, output: 17 } },
    });
    await browser.screenshot(page, 'details-pricing-units');
    await s.manage('DELETE', '/pricing/gpt-4o');
    await page.close();
  });

  it('counts no failed request and no /v1/models call as unpriced on the dashboard and the project page', async () => {
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: pastedToken, maxRetries: 0 });
    await client.models.list();
    const failed = await client.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] },
        { headers: { 'x-mock-status': '500' } },
      )
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(OpenAI.InternalServerError);
    await s.server.runtime.usage.flush();
    const totals = (await s.manage('GET', `/usage?project_id=${ids.project}`)).body.totals;
    expect(totals).toMatchObject({ errors: 1, unpriced_requests: 0 });
    await signInByApi();
    const page = await browser.page();
    await page.goto(`${s.url}/admin/`);
    await page.getByTestId('stat-cost').filter({ hasText: 'all requests priced' }).waitFor();
    await page.goto(`${s.url}/admin/projects/${ids.project}`);
    await page.getByText('all priced', { exact: true }).waitFor();
    await page.close();
  });

  it('shows what the proxy recorded for a request sent with a pasted token, not only one issued here', async () => {
    await signInByApi();
    const page = await browser.page();
    await page.goto(`${s.url}/admin/try`);
    await page.getByLabel('Proxy token').fill(pastedToken);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('try-reply').filter({ hasText: 'deterministic reply' }).waitFor();
    const recorded = page.getByTestId('try-recorded');
    await recorded
      .filter({
        hasText:
          /^Recorded: request \d+ of token pasted-elsewhere, costing \$0\.0000\d+ for \d+ tokens \(project web-frontend\)\. Open the token$/,
      })
      .waitFor();
    await browser.screenshot(page, 'details-try-pasted');
    await recorded.getByRole('link', { name: 'Open the token' }).click();
    await page.getByRole('heading', { level: 1, name: 'pasted-elsewhere' }).waitFor();
    await page.close();
  });

  /**
   * Every label the charts' canvases draw, with its box: fillText is wrapped before the page's
   * scripts run, so a label cut by the canvas edge ("7 De") shows as a box beyond it.
   */
  async function watchCanvasText(
    page: Page,
  ): Promise<() => Promise<Array<{ text: string; left: number; right: number; width: number }>>> {
    await page.addInitScript(() => {
      const w = window as any;
      w.__drawn = [];
      const proto = w.CanvasRenderingContext2D.prototype;
      const fillText = proto.fillText;
      proto.fillText = function (this: any, text: string, x: number, y: number, ...rest: unknown[]) {
        const m = this.measureText(text).width;
        const align = this.textAlign;
        const left = align === 'center' ? x - m / 2 : align === 'right' || align === 'end' ? x - m : x;
        w.__drawn.push({ text, left, right: left + m, width: this.canvas.width });
        return fillText.call(this, text, x, y, ...rest);
      };
    });
    return () => page.evaluate(() => (window as any).__drawn.splice(0));
  }

  /**
   * A browser clock ten minutes past a UTC midnight (day ticks sit at the charts' right edge), chosen
   * relative to the data, not to the time of day the test runs at: the 24-hour window then ends at
   * 01:00 and starts 24 hours before, so the midnight is the one after the requests when they were made
   * at 01:00 or later, and the one before them when they were made in the first hour of a day (the
   * next midnight would leave them out of the 24-hour chart, which then draws no chart at all). The
   * charts' windows are whole hours, so the browser may stand up to 50 minutes before the requests.
   */
  const midnightFor = (requestsAt: number): number => {
    const d = new Date(requestsAt + 23 * 3_600_000);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 0, 10);
  };

  // Last: the browser's clock stays fixed for the rest of the session (the pages after would show odd times).
  for (const { name, width, height } of [
    { name: 'phone', width: 390, height: 844 },
    { name: 'desktop', width: 1440, height: 900 },
  ]) {
    it(`draws every chart label whole, without uPlot's empty legend, and says why days are blank (${name})`, async () => {
      await signInByApi();
      const page = await browser.page({ width, height });
      await page.clock.setFixedTime(midnightFor(requestsAt));
      const drawn = await watchCanvasText(page);
      const charts: Array<[string, string]> = [
        ...(['24h', '7d', '30d', '90d'] as const).map((r): [string, string] => [`dashboard-${r}`, `/?range=${r}`]),
        ['project', `/projects/${ids.project}`],
        ['token', `/tokens/${ids.token}`],
      ];
      for (const [label, path] of charts) {
        await page.goto(`${s.url}/admin${path}`);
        await page.locator('.chart canvas').first().waitFor();
        await page.waitForFunction(() => (window as any).__drawn.length > 0);
        const cut = (await drawn()).filter((t) => t.left < 0 || t.right > t.width);
        expect({ label, cut }).toEqual({ label, cut: [] });
        // No legend of dashes: uPlot's default one ("Time: – Requests: – Errors: –") is not shown.
        const legend = await page
          .locator('.chart')
          .first()
          .evaluate((el: any) => el.closest('.card').textContent);
        expect({ label, dashes: /Time|–/.test(legend) }).toEqual({ label, dashes: false });
        if (label === 'dashboard-30d' || label === 'project') {
          // A new install: the chart says the empty days before its first request are empty, and why.
          await page
            .getByTestId('chart-note')
            .filter({ hasText: /^No requests before \d+ \w{3}/ })
            .waitFor();
        }
        if (name === 'phone' && label === 'project') await browser.screenshot(page, `details-project-${name}`);
        if (label === 'dashboard-30d') await browser.screenshot(page, `details-dashboard-${name}`);
        if (label === 'dashboard-30d' && name === 'desktop') {
          // Pointing at a day says its numbers, below the chart; leaving it says nothing again.
          const plot = await page.locator('.chart .u-over').boundingBox();
          if (!plot) throw new Error('no plot area');
          await page.mouse.move(plot.x + plot.width / 2, plot.y + plot.height / 2);
          const readout = page.locator('.chart-readout');
          await readout.filter({ hasText: /^\d+ \w{3}: Requests \d+, Errors \d+$/ }).waitFor();
          await page.mouse.move(plot.x + plot.width / 2, plot.y + plot.height + 200);
          await expect.poll(() => readout.textContent()).toBe('');
        }
      }
      await page.close();
    });
  }
});
