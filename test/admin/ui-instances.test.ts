import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstancesRepo } from '../../src/store/instances-repo.js';
import { VERSION } from '../../src/version.js';
import { axeViolations, type BrowserSession, startBrowser } from '../helpers/browser.js';
import { postgresDatabase, type TestDatabase } from '../helpers/databases.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serviceAvailable } from '../helpers/services.js';

// Browser globals, for the callbacks that page.evaluate runs in the page (this file's own types are Node's).
declare const document: any;
declare const window: any;

const ready = (await serviceAvailable('chromium')) && (await serviceAvailable('postgres'));

/**
 * The Instances page, against two real servers sharing a PostgreSQL database and the row a killed
 * process left (its database failing): every instance with its state, version and in-flight count,
 * the database and Redis cards; axe finds nothing serious on a 1,440 px desktop (light and dark)
 * or a phone, and nothing overflows the phone's width.
 */
describe.runIf(ready)('the admin UI’s Instances page', () => {
  let tdb: TestDatabase;
  const servers: TestServer[] = [];
  let browser: BrowserSession;
  const dead = 'crashed-host:4242:deadbeef';

  beforeAll(async () => {
    tdb = await postgresDatabase();
    if (tdb.config.kind !== 'postgres') throw new Error('expected postgres');
    const env = {
      DATABASE_URL: tdb.config.url,
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      INSTANCE_HEARTBEAT_MS: '200',
      INSTANCE_GONE_AFTER_MS: '10000',
    };
    servers.push(await startTestServer(env), await startTestServer(env));
    const a = servers[0] as TestServer;
    // A process killed an hour ago: its row stayed, its heartbeat stopped.
    const hourAgo = Date.now() - 3_600_000;
    await new InstancesRepo(a.server.runtime.db).upsert({
      ...a.server.runtime.heartbeat.row(),
      id: dead,
      host: 'crashed-host',
      pid: 4242,
      started_at: hourAgo - 600_000,
      last_seen_at: hourAgo,
      // What it saw last: its usage writes were failing.
      database_state: 'failing: timeout (57014)',
    });
    browser = await startBrowser(a.url);
  });

  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await s.stop();
    await tdb?.drop();
  });

  async function instancesPage(opts: { width?: number; height?: number; dark?: boolean }): Promise<Page> {
    const s = servers[0] as TestServer;
    await browser.context.clearCookies();
    const page = await browser.page(opts);
    await page.goto(`${s.url}/admin/`);
    await page.getByLabel('Management token').fill(s.managementToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    // On a phone the navigation is behind the menu button.
    if ((opts.width ?? 1440) < 800) await page.getByRole('button', { name: 'Open the menu' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Instances' }).click();
    await page.getByRole('heading', { level: 1, name: 'Instances' }).waitFor();
    // Both servers' heartbeats and the dead row.
    await page.locator('[data-testid=instances] tbody tr').nth(2).waitFor();
    return page;
  }

  for (const variant of [
    { name: 'desktop', width: 1440, height: 900 },
    { name: 'dark', width: 1440, height: 900, dark: true },
    { name: 'phone', width: 390, height: 844 },
  ]) {
    it(`lists every instance with its state, version and dependencies (${variant.name})`, async () => {
      const page = await instancesPage(variant);
      const [a, b] = servers as [TestServer, TestServer];
      const rows = page.locator('[data-testid=instances] tbody tr');
      expect(await rows.count()).toBe(3);
      const row = (id: string) => rows.filter({ hasText: id });
      expect(await row(a.server.runtime.instanceId).textContent()).toContain('this instance');
      expect(await row(a.server.runtime.instanceId).textContent()).toContain('live');
      expect(await row(b.server.runtime.instanceId).textContent()).toContain(`pid ${process.pid}`);
      expect(await row(b.server.runtime.instanceId).textContent()).toContain(VERSION);
      expect(await row(dead).textContent()).toContain('gone');
      // Said in its first cell too, which a phone shows.
      expect(await row(dead).locator('td').first().textContent()).toContain('database failing');
      expect(await page.getByTestId('stat-instances').textContent()).toContain('1 gone');
      expect(await page.getByTestId('stat-database').textContent()).toContain('Reachable');
      expect(await page.getByTestId('stat-redis').textContent()).toContain('Not used');
      expect(await axeViolations(page)).toEqual([]);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBe(0);
      await browser.screenshot(page, `instances-${variant.name}`);
      await page.close();
      expect(browser.problems).toEqual([]);
    });
  }
});
