import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryLock } from '../../src/main/engine/history/lock';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { waitFor } from '../helpers/children';
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

    // the writer lets go of the lock once what it had queued is written (the status says off at once)
    const held = await waitFor(
      () => {
        const h = HistoryLock.acquire(join(dir, 'history.db.lock'), 'portwatch record --db elsewhere');
        return h.ok ? h : undefined;
      },
      20_000,
      'the lock released',
    );
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

  it('More › First-contact alerts turns learning on, and offers how much history to learn from; the choice holds', async () => {
    const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
    await page.goto(server.url);
    const more = page.getByRole('button', { name: /More/ });
    await more.click();
    const toggle = page.getByTestId('first-contact');
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    expect(await page.getByTestId('learning-period').count()).toBe(0);
    await toggle.click();
    await more.click();
    const period = page.getByTestId('learning-period');
    await period.waitFor();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    const choices = period.getByRole('button');
    expect(await choices.allTextContents()).toEqual(['1 h', '1 day', '3 days', '1 week']);
    expect(await period.locator('[aria-pressed=true]').textContent()).toBe('1 day');
    await period.getByRole('button', { name: '1 week' }).click();
    // the engine's settings say so, for every client: a new page shows it too
    const again = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await again.goto(server.url);
    await again.getByRole('button', { name: /More/ }).click();
    await again.locator('[data-testid=learning-period] [aria-pressed=true]', { hasText: '1 week' }).waitFor({ timeout: 20_000 });
    await again.getByTestId('first-contact').click();
    await page.close();
    await again.close();
  }, 120_000);
});
