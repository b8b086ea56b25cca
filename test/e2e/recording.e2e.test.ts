import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryLock } from '../../src/main/engine/history/lock';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { ROOT, WORKER } from '../helpers/paths';

/**
 * The status bar's history indicator and More › Record history, in Chromium over a real server recording into a
 * real history: recording, turned off from the menu, and, with another process holding the lock, naming it.
 */

let browser: Browser;
let host: MonitorHost;
let server: RunningServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pw-recording-e2e-'));
  host = new MonitorHost({ intervalMs: 500, workerPath: WORKER });
  host.start();
  server = await startServer({ monitor: host, staticDir: join(ROOT, 'out', 'renderer'), port: 0, historyPath: join(dir, 'history.db'), record: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await host?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the history indicator', () => {
  it('says Recording, Not recording after the menu turns it off, and who records when another process holds the lock', async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    await page.goto(server.url);
    const indicator = page.getByTestId('history-status');
    await indicator.and(page.locator('[data-state=recording]')).waitFor({ timeout: 60_000 });
    expect(await indicator.textContent()).toBe('Recording');
    expect((await indicator.getAttribute('title'))?.startsWith(`Recording the history to ${join(dir, 'history.db')}: `)).toBe(true);
    expect(await indicator.getAttribute('title')).toMatch(/: \d+ events? written$/);

    await page.getByRole('button', { name: /More/ }).click();
    const toggle = page.getByTestId('record-history');
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    await toggle.click();
    await indicator.and(page.locator('[data-state=off]')).waitFor({ timeout: 20_000 });
    expect(await indicator.textContent()).toBe('Not recording');

    const held = HistoryLock.acquire(join(dir, 'history.db.lock'), 'portwatch record --db elsewhere');
    if (!held.ok) throw new Error(held.message);
    try {
      if (!(await toggle.isVisible())) await page.getByRole('button', { name: /More/ }).click();
      await toggle.click();
      await indicator.and(page.locator('[data-reason=locked]')).waitFor({ timeout: 20_000 });
      expect(await indicator.textContent()).toBe(`History: pid ${process.pid} records`);
      expect(await indicator.getAttribute('title')).toMatch(
        new RegExp(
          `^Not recording: pid ${process.pid} \\(portwatch record --db elsewhere\\), since .* is recording into .*history\\.db\\. This Portwatch records again when it stops`,
        ),
      );
    } finally {
      held.lock.release();
    }
    await page.close();
  }, 120_000);
});
