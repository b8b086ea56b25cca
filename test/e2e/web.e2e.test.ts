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
const NAME = 'pw-e2e-listener';

/** The group of the process called `name` (group names are full process names). */
const group = (page: Page, name: string) => page.locator('[data-testid=group]', { has: page.locator(`[data-testid=group-name]:text-is("${name}")`) });

describe('web mode end to end, in Chromium', () => {
  let monitor: MonitorHost;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let tmp: string;
  const children: Child[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'pw-e2e-'));
    symlinkSync(process.execPath, join(tmp, NAME));
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 1000 });
    monitor.start();
    server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await browser?.close();
    await server?.close();
    await monitor?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('shows a new listener under its process name within 2 s, with its row, and sees it go when it stops', async () => {
    const child = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    children.push(child);
    const started = Date.now();
    const port = child.firstLine;
    const g = group(page, NAME);
    await g.locator(`[data-testid=port-chip]:text-is(":${port}")`).waitFor({ timeout: 2000 });
    const seenAfter = Date.now() - started;
    expect(seenAfter).toBeLessThan(2000);
    expect(await g.locator('.group-head').textContent()).toContain(`pid ${child.pid}`);

    await g.locator('.group-head').click();
    const row = g.locator(`[data-testid=socket-row][data-socket-id*="|${port}|"]`);
    await row.waitFor();
    const text = await row.textContent();
    expect(text).toContain(`127.0.0.1:${port}`);
    expect(text).toContain('LISTEN');
    await page.screenshot({ path: join(SHOTS, 'web-live-view.png') });

    await child.stop();
    await row.waitFor({ state: 'detached', timeout: 3000 });
    await g.waitFor({ state: 'detached', timeout: 3000 });
  });

  it('pauses and resumes from the toolbar', async () => {
    await page.getByTestId('pause').click();
    await page.locator('[data-testid=pause][aria-pressed=true]').waitFor();
    expect(monitor.isPaused()).toBe(true);
    await page.getByTestId('pause').click();
    await page.locator('[data-testid=pause][aria-pressed=false]').waitFor();
    expect(monitor.isPaused()).toBe(false);
  });

  it('survives a dropped connection: says so, reconnects, and resynchronises from a fresh snapshot', async () => {
    const { port, token } = server;
    await server.close();
    await page.locator('[data-testid=status-bar][data-state=disconnected]').waitFor({ timeout: 5000 });
    await page.screenshot({ path: join(SHOTS, 'web-disconnected.png') });
    // something opens while the page is cut off
    const child = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    children.push(child);
    server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port, token });
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 10_000 });
    await group(page, NAME).locator(`[data-testid=port-chip]:text-is(":${child.firstLine}")`).waitFor({ timeout: 5000 });
    await child.stop();
  });
});
