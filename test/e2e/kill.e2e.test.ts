import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { isRunning, PYTHON, spawnDetached } from '../helpers/children';
import { ROOT, WORKER } from '../helpers/paths';

const SHOTS = join(ROOT, 'test-results');

/**
 * A python server on six loopback ports, with eight clients of its own on the first; it prints "PID PORTS..."
 * and lets go of stdout (spawnDetached: not a child of this process, which Portwatch would refuse to kill).
 */
const SIX_PORTS = `
import os, socket, sys, time
ls = []
for i in range(6):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen()
    ls.append(s)
clients = [socket.create_connection(('127.0.0.1', ls[0].getsockname()[1])) for _ in range(8)]
print(os.getpid(), ' '.join(str(s.getsockname()[1]) for s in ls), flush=True)
sys.stdout.close()
time.sleep(600)
`;

/** What has focus in the page: its test id and whether it is inside the kill dialog. */
function focused(page: Page): Promise<{ testid: string | null; inDialog: boolean; group: string | null }> {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      testid: el?.getAttribute('data-testid') ?? null,
      inDialog: el?.closest('[data-testid=confirm-kill]') !== null && el?.closest('[data-testid=confirm-kill]') !== undefined,
      group: el?.closest('[data-testid=group]')?.querySelector('[data-testid=group-name]')?.textContent ?? null,
    };
  });
}

describe('the kill dialog, in Chromium', { timeout: 60_000 }, () => {
  let monitor: MonitorHost;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let tmp: string;
  let six: { pid: number };
  let ports: number[];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'pw-kill-e2e-'));
    writeFileSync(join(tmp, 'sixports.py'), SIX_PORTS);
    const started = await spawnDetached(PYTHON, [join(tmp, 'sixports.py')]);
    six = { pid: started.pid };
    ports = started.rest
      .split(' ')
      .map(Number)
      .sort((a, b) => a - b);
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 500 });
    monitor.start();
    server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0, baselinePath: join(tmp, 'baseline.json') });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
    await page.goto(server.url);
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 10_000 });
  });
  afterAll(async () => {
    if (six && isRunning(six.pid)) process.kill(six.pid, 'SIGKILL');
    await browser?.close();
    await server?.close();
    await monitor?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('takes focus when it opens, lists all six ports and the connections, Esc cancels and gives focus back, Enter kills', async () => {
    await page.getByTestId('search').fill(`pid:${six.pid}`);
    const group = page.locator('[data-testid=group]', { has: page.locator('[data-testid=group-name]:text-is("python3 sixports.py")') });
    const killButton = group.getByTestId('kill').first();
    await killButton.waitFor({ timeout: 20_000 });
    // every socket of it on screen: the dialog's plan is made from what the page knows
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=socket-row]').length >= n, 14, { timeout: 20_000 });
    await killButton.focus();
    await page.keyboard.press('Enter');

    const dialog = page.getByTestId('confirm-kill');
    await dialog.waitFor();
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'confirm-kill-yes');
    expect(await focused(page)).toMatchObject({ testid: 'confirm-kill-yes', inDialog: true });
    expect(await dialog.locator('h2').textContent()).toBe(`Kill python3 sixports.py (pid ${six.pid})?`);
    expect(await dialog.getByTestId('kill-cmdline').textContent()).toBe(`${PYTHON} ${join(tmp, 'sixports.py')}`);
    expect(await dialog.getByTestId('kill-listeners').locator('li').allTextContents()).toEqual(ports.map((p) => `tcp 127.0.0.1:${p}`));
    const connections = dialog.getByTestId('kill-connections');
    expect(await connections.textContent()).toMatch(/^8 \(8 ESTABLISHED\)/);
    expect(await connections.locator('li').count()).toBe(6);
    expect(await connections.locator('li').last().textContent()).toBe('… and 3 more');
    await page.screenshot({ path: join(SHOTS, 'kill-dialog.png') });

    // Tab stays inside
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      expect((await focused(page)).inDialog).toBe(true);
    }

    // Esc cancels, and focus goes back to the Kill button it came from; nothing died
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused(page)).toMatchObject({ testid: 'kill', group: 'python3 sixports.py' });
    expect(isRunning(six.pid)).toBe(true);

    // again, and Enter confirms
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'confirm-kill-yes');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid=kill-result][data-result=exited]').waitFor({ timeout: 15_000 });
    expect(isRunning(six.pid)).toBe(false);
    expect(await dialog.getByTestId('kill-result').textContent()).toMatch(/^python3 sixports\.py exited \d+ ms after SIGTERM\.$/);
    // the step's button has focus: Enter closes
    await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'kill-close');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
  });

  it('the Log says each kill once, in one wording (not "exited exited")', async () => {
    const started = await spawnDetached(PYTHON, [join(tmp, 'sixports.py')]);
    const pid = started.pid;
    try {
      await page.getByTestId('search').fill(`pid:${pid}`);
      const group = page.locator('[data-testid=group]', { has: page.locator('[data-testid=group-name]:text-is("python3 sixports.py")') });
      await group.getByTestId('kill').first().click({ timeout: 20_000 });
      await page.getByTestId('confirm-kill-yes').click();
      await page.locator('[data-testid=kill-result][data-result=exited]').waitFor({ timeout: 15_000 });
      await page.getByTestId('kill-close').click();
      await page.getByTestId('log-toggle').click();
      await page.waitForFunction((p) => [...document.querySelectorAll('[data-testid=action-entry]')].some((e) => e.textContent?.includes(`(pid ${p})`)), pid);
      const text = (await page.locator('[data-testid=action-entry]', { hasText: `(pid ${pid})` }).textContent()) ?? '';
      expect(text).toMatch(new RegExp(`Kill python3 \\(pid ${pid}\\): exited \\d+ ms after SIGTERM$`));
      // one wording: no word said twice in a row ("exited exited"), the signal named once
      expect(text).not.toMatch(/\b(\w+) \1\b/);
      expect(text.match(/SIGTERM/g)).toHaveLength(1);
    } finally {
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
