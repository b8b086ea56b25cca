import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { PYTHON, spawnReady, type Child } from '../helpers/children';
import { ROOT, WORKER } from '../helpers/paths';

/** Our processes' name (a symlink to node), of this run only: `proc:NAME` matches nothing else on the machine. */
const NAME = `pw-tbl-${randomBytes(4).toString('hex')}`;

/**
 * Node: a listener on 127.0.0.1 and `n` connections to it (both ends are this process); prints the port once
 * all are up. With "churn", one more connection opens and closes every 200 ms: every poll changes the rows.
 * On SIGTERM it resets every connection (RST, no TIME_WAIT) before it exits: its rows then close for good.
 */
const CONNECTIONS = `
const net = require('net');
const n = Number(process.argv[1]);
const keep = [];
const s = net.createServer((c) => { c.on('error', () => {}); keep.push(c); }).listen(0, '127.0.0.1', () => {
  const port = s.address().port;
  let up = 0;
  if (n === 0) console.log(port);
  for (let i = 0; i < n; i++) {
    const c = net.connect(port, '127.0.0.1', () => { if (++up === n) console.log(port); });
    c.on('error', () => {});
    keep.push(c);
  }
  if (process.argv[2] === 'churn')
    setInterval(() => { const c = net.connect(port, '127.0.0.1', () => setTimeout(() => c.destroy(), 300)); c.on('error', () => {}); }, 200);
});
process.on('SIGTERM', () => { for (const c of keep) c.resetAndDestroy(); setTimeout(() => process.exit(0), 50); });
`;

/** Python: a listener, and a client of it that closes first, so its end goes to TIME_WAIT; prints "listener-port client-port". */
const TIME_WAIT_PAIR = `
import socket, time
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
c = socket.create_connection(srv.getsockname()); a, _ = srv.accept()
port = c.getsockname()[1]
c.close(); time.sleep(0.05); a.close()
print(srv.getsockname()[1], port, flush=True)
time.sleep(600)
`;

/**
 * The socket table in a real Chromium over web mode: a view that stays put, rows that say who, grouping that
 * means something, and row actions. One engine and server for the file (a fresh baseline file: every listener
 * is unexpected); each test has a browser context of its own (its own clipboard grant, colour scheme, size).
 */
describe('the socket table, in Chromium', { timeout: 90_000 }, () => {
  let monitor: MonitorHost;
  let server: RunningServer;
  let browser: Browser;
  let tmp: string;
  let page: Page;
  const children: Child[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'pw-table-'));
    symlinkSync(process.execPath, join(tmp, NAME));
    const staticDir = join(tmp, 'renderer');
    cpSync(join(ROOT, 'out', 'renderer'), staticDir, { recursive: true });
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 500 });
    monitor.start();
    server = await startServer({ monitor, staticDir, port: 0, baselinePath: join(tmp, 'config', 'baseline.json') });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await monitor?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(async () => {
    await page?.context().close();
    await Promise.all(children.splice(0).map((c) => c.stop()));
    expect(errors.splice(0)).toEqual([]);
  });

  const open = async (opts: { width?: number; height?: number; dark?: boolean; clock?: 'paused' } = {}): Promise<Page> => {
    const context = await browser.newContext({
      viewport: { width: opts.width ?? 1200, height: opts.height ?? 700 },
      colorScheme: opts.dark ? 'dark' : 'light',
    });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    if (opts.clock === 'paused') {
      // the page's timers stand still (a closed row then lingers until the test is done with it); polls still arrive
      const t = Date.now();
      await page.clock.install({ time: t });
      await page.clock.pauseAt(t + 60_000);
    }
    await page.goto(server.url);
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 20_000 });
    return page;
  };
  const spawn = async (args: string[], command = join(tmp, NAME)): Promise<Child> => {
    const child = await spawnReady(command, args);
    children.push(child);
    return child;
  };
  const only = (q: string) => page.getByTestId('search').fill(q);
  const rowStarting = (prefix: string) => page.locator(`[data-testid=socket-row][data-socket-id^="${prefix}"]`);
  const seq = (): Promise<number> => page.evaluate(() => Number(document.querySelector('[data-testid=status-bar]')?.getAttribute('data-seq')));
  const waitSeq = (n: number) =>
    page.waitForFunction((q) => Number(document.querySelector('[data-testid=status-bar]')?.getAttribute('data-seq')) >= q, n, { timeout: 30_000 });
  const clipboard = (): Promise<string> => page.evaluate(() => navigator.clipboard.readText());
  const selectedIds = (): Promise<string[]> =>
    page.locator('[data-testid=socket-row][aria-selected=true]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-socket-id') ?? ''));

  it('a selected row does not take over scrolling: the position holds across 5 polls; the arrow keys do scroll', async () => {
    await open();
    const child = await spawn(['-e', CONNECTIONS, '300', 'churn']);
    await only(`proc:${NAME}`);
    // 1 listener and 300 connections, both ends: 601 rows and more, far taller than the window
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=socket-row]').length > 10, null, { timeout: 30_000 });
    const scroller = page.getByTestId('scroller');
    await page.waitForFunction(() => (document.querySelector('[data-testid=scroller]')?.scrollHeight ?? 0) > 12_000, null, { timeout: 30_000 });
    await rowStarting(`tcp|127.0.0.1|${child.firstLine}|*|`).click();
    expect(await selectedIds()).toHaveLength(1);
    await scroller.evaluate((el) => {
      el.scrollTop = 6000;
    });
    // note the position at every poll the page shows (and any scroll at all) while five polls arrive
    await page.evaluate(() => {
      const el = document.querySelector('[data-testid=scroller]') as HTMLElement;
      const seen: number[] = [];
      (window as unknown as { __pwScroll: number[] }).__pwScroll = seen;
      el.addEventListener('scroll', () => seen.push(el.scrollTop));
      new MutationObserver(() => seen.push(el.scrollTop)).observe(document.querySelector('[data-testid=status-bar]') as Element, {
        attributes: true,
        attributeFilter: ['data-seq'],
      });
    });
    // the rows change meanwhile (the churn), so each poll has every chance to move the list
    let churned = 0;
    const off = monitor.on('delta', (d) => void (churned += Number(d.added.some((x) => x.pid === child.pid))));
    await waitSeq((await seq()) + 5);
    off();
    expect(churned).toBeGreaterThanOrEqual(3);
    const seen = await page.evaluate(() => (window as unknown as { __pwScroll: number[] }).__pwScroll);
    expect(seen.length).toBeGreaterThanOrEqual(5);
    expect(new Set(seen)).toEqual(new Set([6000]));
    expect(await scroller.evaluate((el) => el.scrollTop)).toBe(6000);
    expect(await selectedIds()).toHaveLength(0); // the selected row is off screen (virtualized), still selected:
    // keyboard navigation brings the next row into view
    await page.locator('body').press('ArrowDown');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=socket-row][aria-selected=true]').length === 1, null, { timeout: 10_000 });
    expect(await scroller.evaluate((el) => el.scrollTop)).toBeLessThan(1000);
  });

  it('a second click on the selected row deselects it, and so does Esc', async () => {
    await open();
    const child = await spawn(['-e', CONNECTIONS, '1']);
    await only(`proc:${NAME}`);
    const row = rowStarting(`tcp|127.0.0.1|${child.firstLine}|*|`);
    await row.click();
    await page.getByTestId('details').waitFor();
    expect(await row.getAttribute('aria-selected')).toBe('true');
    await row.click();
    await page.getByTestId('details').waitFor({ state: 'detached' });
    expect(await selectedIds()).toEqual([]);
    await row.click();
    expect(await row.getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('Escape');
    await page.getByTestId('details').waitFor({ state: 'detached' });
    expect(await selectedIds()).toEqual([]);
  });

  it('picking a socket in Details brings its row into view, opening its group if it was closed', async () => {
    await open();
    const child = await spawn(['-e', CONNECTIONS, '1']);
    // its own sockets only: an earlier test's process of the same name may still be listed until the next poll
    await only(`pid:${child.pid}`);
    await rowStarting(`tcp|127.0.0.1|${child.firstLine}|*|`).click();
    await page.getByTestId('details').waitFor();
    const g = page.locator(`[data-testid=group][data-group-key^="p:${child.pid}:"]`);
    await g.click();
    expect(await g.getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator('[data-testid=socket-row]').count()).toBe(0);
    // the client's end of its connection, from the list of its sockets
    await page
      .getByTestId('details')
      .locator('.owned button', { hasText: `→ 127.0.0.1:${child.firstLine} ESTABLISHED` })
      .click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=socket-row][aria-selected=true]').length === 1, null, { timeout: 10_000 });
    expect(await g.getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('[data-testid=socket-row][aria-selected=true]').getAttribute('data-socket-id')).toMatch(
      new RegExp(`\\|127\\.0\\.0\\.1\\|${child.firstLine}$`),
    );
  });

  it('the row menu copies the endpoint and the pid to the clipboard, and filters to the port', async () => {
    await open();
    const child = await spawn(['-e', CONNECTIONS, '0']);
    const port = child.firstLine;
    await only(`proc:${NAME}`);
    const row = rowStarting(`tcp|127.0.0.1|${port}|*|`);
    await row.click({ button: 'right' });
    const menu = page.getByTestId('row-menu');
    await menu.waitFor();
    await page.getByTestId('menu-copy-endpoint').click();
    await menu.waitFor({ state: 'detached' });
    expect(await clipboard()).toBe(`127.0.0.1:${port}`);
    // from the row's ⋯ button
    await row.hover();
    await row.getByTestId('row-menu-button').click();
    await page.getByTestId('menu-copy-pid').click();
    expect(await clipboard()).toBe(String(child.pid));
    // from the Menu key, on the selected row; Esc closes the menu and keeps the selection
    await row.click();
    await page.keyboard.press('ContextMenu');
    await menu.waitFor();
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    expect(await row.getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ContextMenu');
    await page.getByTestId('menu-copy-cmdline').click();
    expect(await clipboard()).toContain(`${NAME} -e`);
    await row.click({ button: 'right' });
    await page.getByTestId('menu-filter-port').click();
    expect(await page.getByTestId('search').inputValue()).toBe(`port:${port}`);
  });

  it('on a row that closed, Kill and Close are disabled and say why, in the menu and in Details', async () => {
    await open({ clock: 'paused' });
    const child = await spawn(['-e', CONNECTIONS, '1']);
    const port = child.firstLine;
    await only(`proc:${NAME}`);
    // the client's end: from an ephemeral port to the listener's
    const conn = page.locator(`[data-testid=socket-row][data-socket-id^="tcp|127.0.0.1|"][data-socket-id$="|127.0.0.1|${port}"]`);
    await conn.waitFor({ timeout: 20_000 });
    await conn.click({ button: 'right' });
    expect(await page.getByTestId('menu-close').isDisabled()).toBe(false);
    expect(await page.getByTestId('menu-kill').isDisabled()).toBe(false);
    await page.keyboard.press('Escape');
    await conn.click();
    await page.getByTestId('close-connection').waitFor();
    expect(await page.getByTestId('close-connection').isDisabled()).toBe(false);

    await child.stop();
    // the connection and the listener: a poll may fall in the exit, between the connections' reset and the rest
    await page.locator(`[data-testid=socket-row][data-change=closed][data-socket-id$="|127.0.0.1|${port}"]`).waitFor({ timeout: 20_000 });
    // the listener closed too, and is shown closed under the filter even when a poll fell in the exit and saw it
    // without an owner (the descriptors go before the sockets do): it keeps its last owner
    await page.waitForFunction(
      (p) => {
        const rows = [...document.querySelectorAll(`[data-testid=socket-row][data-socket-id^="tcp|127.0.0.1|${p}|*|"]`)];
        return rows.length > 0 && rows.every((r) => r.getAttribute('data-change') === 'closed');
      },
      port,
      { timeout: 20_000 },
    );
    // Details, still open on it, no longer offers what cannot be done
    expect(await page.getByTestId('close-connection').isDisabled()).toBe(true);
    expect(await page.getByTestId('actions').getByTestId('kill').isDisabled()).toBe(true);
    // so does its group's Kill: every socket of it has closed
    const groupKill = page.locator('[data-testid=group]').getByTestId('kill');
    expect(await groupKill.isDisabled()).toBe(true);
    expect(await groupKill.getAttribute('title')).toMatch(/has exited/);
    expect(await page.getByTestId('close-unavailable').textContent()).toMatch(/already closed/);
    expect(await page.getByTestId('kill-unavailable').textContent()).toMatch(/has exited/);
    await conn.click({ button: 'right' });
    const close = page.getByTestId('menu-close');
    expect(await close.isDisabled()).toBe(true);
    expect(await close.getAttribute('title')).toMatch(/already closed/);
    expect(await close.textContent()).toMatch(/already closed/);
    const kill = page.getByTestId('menu-kill');
    expect(await kill.isDisabled()).toBe(true);
    expect(await kill.textContent()).toMatch(/pid \d+\) has exited/);
    // copying still works: the row says what it was
    expect(await page.getByTestId('menu-copy-endpoint').isDisabled()).toBe(false);
    await page.screenshot({ path: '/tmp/table-closed-row-menu.png' });
  });

  it('kernel-held rows sit in one folded group, last; Hide TIME_WAIT hides them', async () => {
    await open();
    const child = await spawn(['-c', TIME_WAIT_PAIR], PYTHON);
    const [listenPort, clientPort] = child.firstLine.split(' ');
    // the listener (python3's group) and the client's end in TIME_WAIT (no process holds it)
    await only(`port:${listenPort}`);
    const kernel = page.locator('[data-testid=group][data-group-key=none]');
    await kernel.waitFor({ timeout: 20_000 });
    // the listener's group and the kernel's, last. Waited for: the poll on screen may predate the listener, and
    // another process's TIME_WAIT on the same port number (churn elsewhere on the machine) then makes a kernel group alone
    await page.waitForFunction(
      () => {
        const keys = [...document.querySelectorAll('[data-testid=group]')].map((x) => x.getAttribute('data-group-key'));
        return keys.length > 1 && keys.at(-1) === 'none';
      },
      null,
      { timeout: 20_000 },
    );
    expect(await kernel.getAttribute('aria-expanded')).toBe('false');
    const tw = rowStarting(`tcp|127.0.0.1|${clientPort}|`);
    expect(await tw.count()).toBe(0);
    await kernel.click();
    await tw.waitFor();
    await page.screenshot({ path: '/tmp/table-kernel-held.png' });
    // the client's end passes through FIN_WAIT2 on its way: wait for the state the kernel then holds it in
    await tw.filter({ hasText: 'TIME_WAIT' }).waitFor({ timeout: 20_000 });
    // it stays open through polls
    await waitSeq((await seq()) + 2);
    expect(await kernel.getAttribute('aria-expanded')).toBe('true');

    await page.getByTestId('toggle-hideTimeWait').click();
    await tw.waitFor({ state: 'detached' });
    await kernel.waitFor({ state: 'detached' });
    expect(await page.locator('[data-testid=group]').count()).toBeGreaterThan(0); // the listener's group stays
    await page.getByTestId('toggle-hideTimeWait').click();
    await tw.waitFor();
  });

  it("Local port grouping puts clients' ephemeral ports under the port they connect to", async () => {
    await open();
    const child = await spawn(['-e', CONNECTIONS, '6']);
    const port = child.firstLine;
    await only(`proc:${NAME}`);
    await page.getByTestId('group-by').selectOption('local-port');
    const clients = page.locator(`[data-testid=group][data-group-key="tcp:→${port}"]`);
    await clients.waitFor({ timeout: 20_000 });
    // a poll may have caught the connections half made: wait for all of them
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=socket-row]').length === 13, null, { timeout: 20_000 });
    const groups = await page
      .locator('[data-testid=group]')
      .evaluateAll((g) => g.map((x) => [x.querySelector('[data-testid=group-name]')?.textContent, x.querySelector('[data-testid=group-count]')?.textContent]));
    // the listener with its 6 accepted connections, and the 6 clients in one group: not 6 groups of one
    await page.screenshot({ path: '/tmp/table-local-port.png' });
    expect(groups).toEqual([
      [`:${port}`, '7'],
      [`→ :${port} (clients)`, '6'],
    ]);
  });

  it('the badge never hides the name; truncated cells carry their full text; screenshots with the menu open', async () => {
    for (const [width, height] of [
      [1024, 700],
      [1440, 900],
    ] as const) {
      for (const dark of [false, true]) {
        await open({ width, height, dark });
        if (children.length === 0) await spawn(['-e', CONNECTIONS, '3']);
        await only(`proc:${NAME}`);
        const listenerRow = page.locator('[data-testid=socket-row][data-unexpected=true]').first();
        await listenerRow.waitFor({ timeout: 20_000 });
        const boxes = await listenerRow.evaluate((row) => {
          const badge = row.querySelector('.unexpected-badge')?.getBoundingClientRect();
          const text = row.querySelector('[data-testid=process-text]') as HTMLElement;
          const cell = text.parentElement as HTMLElement;
          const t = text.getBoundingClientRect();
          return { badgeRight: badge?.right ?? -1, textLeft: t.left, textRight: t.right, cellRight: cell.getBoundingClientRect().right, title: cell.title };
        });
        expect(boxes.badgeRight).toBeGreaterThan(0);
        expect(boxes.textLeft).toBeGreaterThanOrEqual(boxes.badgeRight);
        expect(boxes.textRight).toBeLessThanOrEqual(boxes.cellRight);
        expect(boxes.title).toContain(NAME);
        // every cell whose text does not fit says it in full
        const untitled = await page.locator('[data-testid=socket-row] [role=cell]').evaluateAll(
          (cells) =>
            cells.filter((c) => {
              const inner = (c.querySelector('.cell-text') as HTMLElement | null) ?? (c as HTMLElement);
              return inner.scrollWidth > inner.clientWidth && !(c as HTMLElement).title.includes(inner.textContent ?? '');
            }).length,
        );
        expect(untitled).toBe(0);
        await listenerRow.click({ button: 'right' });
        await page.getByTestId('row-menu').waitFor();
        await page.screenshot({ path: `/tmp/table-${width}-${dark ? 'dark' : 'light'}.png` });
        await page.context().close();
      }
    }
  });
});
