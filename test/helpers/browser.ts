import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

// Browser globals, for the callbacks that page.evaluate runs in the page (this file's own types are Node's).
declare const document: any;
declare const window: any;

/**
 * Real headless Chromium (Debian's /usr/bin/chromium) driven through playwright-core, with a fresh
 * profile per session. Every page it opens is watched: console errors, uncaught exceptions and
 * Content Security Policy violations are collected, so a test can insist there were none.
 */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Screenshots of every page the UI tests visit (git-ignored). */
export const SCREENSHOTS = path.resolve('test-results/screenshots');

export interface BrowserSession {
  context: BrowserContext;
  /** A new tab, watched for errors. */
  page(opts?: { width?: number; height?: number; dark?: boolean }): Promise<Page>;
  /** Errors seen on any page so far (console errors, exceptions, CSP violations). */
  problems: string[];
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startBrowser(origin: string): Promise<BrowserSession> {
  const profile = mkdtempSync(path.join(tmpdir(), 'llmp-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1360, height: 900 },
    deviceScaleFactor: 1,
    locale: 'en-GB',
    timezoneId: 'UTC',
    timeout: 300_000, // a start on a busy machine takes what it takes; only a hang reaches this
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const problems: string[] = [];
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    problems,
    async page(opts = {}) {
      const page = await context.newPage();
      // Only a hang reaches this (a page waits for what it needs, however busy the machine), and it
      // is below the test's own limit, so a missing element fails with Playwright's account of what
      // it waited for.
      page.setDefaultTimeout(300_000);
      await page.setViewportSize({ width: opts.width ?? 1360, height: opts.height ?? 900 });
      await page.emulateMedia({ colorScheme: opts.dark ? 'dark' : 'light', reducedMotion: 'reduce' });
      page.on('console', (m) => {
        // A refused request logs "Failed to load resource" by itself; the test sees the refusal directly.
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
          problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e: { violatedDirective: string; blockedURI: string }) => {
          console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
        });
      });
      return page;
    },
    async screenshot(page, name) {
      await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core's WCAG 2.1 A/AA checks on the page as it is, serious and critical violations only. The
 * script is evaluated through the DevTools protocol, which the page's CSP does not govern (it would
 * refuse an injected script tag, rightly).
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<unknown> } }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
      resultTypes: ['violations'],
    }),
  )) as { violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: string[] }> }> };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}
