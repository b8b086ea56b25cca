import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { NODE_LISTENER, spawnReady, waitFor, type Child } from '../helpers/children';
import { BIN, ROOT, WORKER } from '../helpers/paths';

const SHOTS = join(ROOT, 'test-results');
const NAME = 'pw-exposure-probe';

describe('exposure, baseline and alerts end to end, in Chromium', () => {
  let monitor: MonitorHost;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let tmp: string;
  let baselinePath: string;
  const children: Child[] = [];
  const alertsFor = (port: string) =>
    page.evaluate((p) => [...document.querySelectorAll('[data-testid=alert]')].filter((e) => e.textContent?.includes(`:${p},`)).length, port);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'pw-exposure-'));
    baselinePath = join(tmp, 'config', 'baseline.json');
    symlinkSync(process.execPath, join(tmp, NAME));
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 500 });
    monitor.start();
    server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0, baselinePath });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1300, height: 720 } });
    await page.goto(server.url);
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 10_000 });
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await browser?.close();
    await server?.close();
    await monitor?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('offers to accept the current listeners on first run, then one new listener makes exactly one alert and audit exit 1', async () => {
    await page.getByTestId('baseline-offer').waitFor();
    await page.getByTestId('accept-baseline').click();
    await page.getByTestId('accept-confirm').click(); // the rules it listed (alerts.e2e.test.ts checks them)
    await page.getByTestId('baseline-offer').waitFor({ state: 'detached' });

    const first = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '0.0.0.0']);
    children.push(first);
    const port = first.firstLine;
    await page.getByTestId('alerts-toggle').click();
    await page.waitForFunction((p) => [...document.querySelectorAll('[data-testid=alert]')].some((e) => e.textContent?.includes(`:${p},`)), port, {
      timeout: 5000,
    });
    expect(await alertsFor(port)).toBe(1);
    expect(await page.getByTestId('alert-list').textContent()).toContain(
      `${NAME} -e (pid ${first.pid}) listens on tcp 0.0.0.0:${port}, reachable on every interface`, // named by processSummary
    );
    await page.screenshot({ path: join(SHOTS, 'web-alerts.png') });

    // it flaps: stops, and the same program listens on the same port again
    const listens = (): boolean => monitor.getSnapshot()?.sockets.some((s) => s.localPort === Number(port) && s.listening) ?? false;
    await first.stop();
    await waitFor(() => (listens() ? undefined : true), 5000, 'the engine sees it gone');
    const again = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER.replace('listen(0', `listen(${port}`), '0.0.0.0']);
    children.push(again);
    const seq = await waitFor(() => (listens() ? monitor.getSnapshot()?.seq : undefined), 5000, 'the engine sees it back');
    await page.waitForFunction((q) => Number(document.querySelector('[data-testid=status-bar]')?.getAttribute('data-seq')) >= q, seq, { timeout: 5000 });
    expect(await alertsFor(port)).toBe(1);
    await page.getByTestId('alerts-toggle').click();

    const audit = spawnSync(process.execPath, [BIN, 'audit', '--baseline', baselinePath], { encoding: 'utf8' });
    expect(audit.status).toBe(1);
    expect(audit.stderr).toContain(`tcp 0.0.0.0:${port} (all) ${NAME} pid ${again.pid}`);
  });

  it('the Exposure view lists listeners widest first, flags the unexpected one, and marks it expected', async () => {
    const child = children.at(-1) as Child;
    const port = child.firstLine;
    await page.getByTestId('view-exposure').click();
    const row = page.locator(`[data-testid=exposure-row][data-socket-id*="|${port}|"]`);
    await row.waitFor({ timeout: 3000 });
    expect(await row.getAttribute('data-exposure')).toBe('all');
    expect(await row.getAttribute('data-expected')).toBe('false');
    const order = await page.locator('[data-testid=exposure-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-exposure')));
    expect(order).toEqual([...order].sort((a, b) => ['all', 'interface', 'loopback'].indexOf(a ?? '') - ['all', 'interface', 'loopback'].indexOf(b ?? '')));
    await page.screenshot({ path: join(SHOTS, 'web-exposure.png') });
    await row.getByTestId('mark-expected').click();
    await page.getByTestId('mark-confirm').click(); // this port, this exposure: the default choice
    await page.locator(`[data-testid=exposure-row][data-socket-id*="|${port}|"][data-expected=true]`).waitFor({ timeout: 3000 });
    const audit = spawnSync(process.execPath, [BIN, 'audit', '--baseline', baselinePath, '--json'], { encoding: 'utf8' });
    const mine = (JSON.parse(audit.stdout) as { listeners: Array<{ localPort: number; expected: boolean }> }).listeners.find(
      (l) => l.localPort === Number(port),
    );
    expect(mine?.expected).toBe(true);
    await page.getByTestId('view-sockets').click();
  });
});
