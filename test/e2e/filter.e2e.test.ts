import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { NODE_LISTENER, spawnReady, type Child } from '../helpers/children';
import { ROOT, WORKER } from '../helpers/paths';

const SHOTS = join(ROOT, 'test-results');
const NAME = 'pw-filter-probe';

/**
 * The search box finds what the table shows (issue 14, item 4): the endpoints as displayed, `:PORT`, `tcp6`, OR
 * queries and ss's syntax, over real listeners on loopback, in Chromium through web mode. A query that does not
 * parse shows no rows and says why, with the column; Esc leaves the box and keeps the query.
 */
describe('the filter language in the search box, in Chromium', { timeout: 60_000 }, () => {
  let monitor: MonitorHost;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let tmp: string;
  let v4: Child;
  let v6: Child;
  let port4: string;
  let port6: string;
  const errors: string[] = [];

  /** The socket ids of the rows on the page. */
  const rowIds = (): Promise<string[]> =>
    page.evaluate(() => [...document.querySelectorAll('[data-testid=socket-row]')].map((r) => r.getAttribute('data-socket-id') ?? ''));
  /** Types a query into the box (as pasting does: the whole text at once) and waits until the rows are exactly `want`. */
  const search = async (query: string, want: string[]): Promise<void> => {
    await page.getByTestId('search').fill(query);
    await page.waitForFunction(
      (w) => {
        const ids = [...document.querySelectorAll('[data-testid=socket-row]')].map((r) =>
          (r.getAttribute('data-socket-id') ?? '').split('|').slice(0, 3).join('|'),
        );
        return ids.length === w.length && w.every((x) => ids.includes(x));
      },
      want,
      { timeout: 10_000 },
    );
  };
  const at4 = (): string => `tcp|127.0.0.1|${port4}`;
  const at6 = (): string => `tcp|::1|${port6}`;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'pw-filter-'));
    symlinkSync(process.execPath, join(tmp, NAME));
    v4 = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    v6 = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '::1']);
    port4 = v4.firstLine;
    port6 = v6.firstLine;
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 500 });
    monitor.start();
    server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1300, height: 720 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 20_000 });
    // both listeners on screen before any test looks for them
    await search(`proc:${NAME}`, [at4(), at6()]);
  });
  afterAll(async () => {
    await v4?.stop();
    await v6?.stop();
    await browser?.close();
    await server?.close();
    await monitor?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    expect(errors).toEqual([]);
  });

  it('pasting 127.0.0.1:PORT, as the Local address column shows it, finds that row', async () => {
    await search(`127.0.0.1:${port4}`, [at4()]);
    const local = await page.locator(`[data-testid=socket-row][data-socket-id^="${at4()}|"] .c-local`).textContent();
    expect(local).toBe(`127.0.0.1:${port4}`);
  });

  it('pasting [::1]:PORT finds the IPv6 row', async () => {
    await search(`[::1]:${port6}`, [at6()]);
    expect(await page.locator(`[data-testid=socket-row][data-socket-id^="${at6()}|"] .c-local`).textContent()).toBe(`[::1]:${port6}`);
  });

  it(':PORT finds the port at either end', async () => {
    await search(`:${port6}`, [at6()]);
  });

  it('tcp6 is the protocol column as netstat prints it', async () => {
    await search(`tcp6 proc:${NAME}`, [at6()]);
    await search(`tcp4 proc:${NAME}`, [at4()]);
  });

  it('an OR query and parentheses', async () => {
    await search(`:${port4} or :${port6}`, [at4(), at6()]);
    await search(`(:${port4} | :${port6}) -tcp6`, [at4()]);
  });

  it("ss's own syntax, as pasted from a shell line", async () => {
    await search(`state listening '( sport = :${port4} or sport = :${port6} )'`, [at4(), at6()]);
    await search(`src [::1]:${port6}`, [at6()]);
    await search(`sport = :${port4}`, [at4()]);
  });

  it('a typo shows no rows and says why next to the box, with the column', async () => {
    await search(`proc:${NAME}`, [at4(), at6()]);
    const query = `proc:${NAME} porrt:${port4}`;
    await page.getByTestId('search').fill(query);
    const error = page.getByTestId('search-error');
    await error.waitFor({ timeout: 5000 });
    // no rows at all: not every socket with a bare count, as if unfiltered
    expect(await rowIds()).toEqual([]);
    expect(await error.textContent()).toContain(`unknown field "porrt:": did you mean "port:"?`);
    expect(await error.textContent()).toContain(`(at column ${query.indexOf('porrt') + 1})`);
    expect(await error.getAttribute('data-position')).toBe(String(query.indexOf('porrt')));
    expect(await page.getByTestId('shown-count').textContent()).toMatch(/^0 of \d+$/);
    expect(await page.getByTestId('search').getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: join(SHOTS, 'web-filter-error.png') });
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.screenshot({ path: join(SHOTS, 'web-filter-error-1024.png') });
    await page.setViewportSize({ width: 1300, height: 720 });
    // fixed, the rows come back
    await search(`proc:${NAME} port:${port4}`, [at4()]);
    expect(await page.getByTestId('search-error').count()).toBe(0);
  });

  it('Esc leaves the box and keeps the query', async () => {
    const box = page.getByTestId('search');
    // a query v1 understood too, so that this checks Esc alone
    const query = `proc:${NAME} lport:${port4}`;
    await box.click();
    await search(query, [at4()]);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('search');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') !== 'search', undefined, { timeout: 5000 });
    expect(await box.inputValue()).toBe(query);
    expect((await rowIds()).map((id) => id.split('|').slice(0, 3).join('|'))).toEqual([at4()]);
  });
});
