import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { loadTokenFile, startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { DETACHED_LISTENER, isRunning, NODE_LISTENER, spawnDetached, spawnReady, waitFor, type Child } from '../helpers/children';
import { countWebSockets, recordRows, rowHistories, socketsMade, waitRowShowed, waitRowsGone } from './page';
import { ROOT, WORKER } from '../helpers/paths';
import { HIGHLIGHT_MS } from '../../src/renderer/src/store/socketStore';

const SHOTS = join(ROOT, 'test-results');

/**
 * The name our listeners run under (a symlink to node): of this run only, as another run of this file on
 * the machine has processes of its own. Fifteen characters, all a process name keeps; all of one length,
 * so that `proc:NAME` (a substring) matches no other run's.
 */
const NAME = `pw-e2e-${randomBytes(4).toString('hex')}`;

/**
 * The group of the process called `name`. A group is named by what the process runs (processSummary): the name,
 * then for an interpreter its script or flag (`NAME -e` for node -e).
 */
const group = (page: Page, name: string) =>
  page.locator('[data-testid=group]', { has: page.locator('[data-testid=group-name]', { hasText: new RegExp(`^${name}( |$)`) }) });

/**
 * Each test has a server of its own (its own reverse-DNS setting, its own request log) and a page of its own
 * (its own search, grouping, panels and highlights), so that it passes alone and in any order. They share
 * the engine, whose one piece of state a test changes (paused polling) is reset before each, and Chromium.
 * Timeouts are for a hang only: tests wait for conditions, never for time to pass.
 */
describe('web mode end to end, in Chromium', { timeout: 60_000 }, () => {
  let monitor: MonitorHost;
  let browser: Browser;
  let tmp: string;
  let tokenFile: string;
  let token: string;
  /** The built renderer, copied once: each test's server reads it, and another run may be rebuilding out/. */
  let staticDir: string;
  let server: RunningServer;
  let page: Page;
  const pages: Page[] = [];
  const children: Child[] = [];
  const detached: number[] = [];
  /** Uncaught errors in this test's pages: none is allowed (checked after each test). */
  const errors: string[] = [];
  /** Every HTTP request and WebSocket upgrade this test's servers saw: method, URL and headers. */
  const seen: string[] = [];
  const log = (req: IncomingMessage): void => void seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
  /** The seq of the poll in which the engine first saw each new listener, by port (during this test). */
  const engineSaw = new Map<number, number>();
  let unsubscribe = (): void => undefined;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'pw-e2e-'));
    symlinkSync(process.execPath, join(tmp, NAME));
    staticDir = join(tmp, 'renderer');
    cpSync(join(ROOT, 'out', 'renderer'), staticDir, { recursive: true });
    tokenFile = join(tmp, 'token');
    token = (loadTokenFile(tokenFile) as { token: string }).token;
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 1000 });
    monitor.start();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await monitor?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /**
   * A new page (a context of its own: no storage shared with another test), on `url`. `clock`: the page's
   * timers on a fake clock, running (`true`) or stopped (`'paused'`, until the test moves it with runFor): a
   * highlight then lasts until the test lets it end, however slowly a busy machine renders it.
   */
  const open = async (url: string, opts: { clock?: boolean | 'paused' } = {}): Promise<Page> => {
    const p = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    pages.push(p);
    p.on('pageerror', (e) => errors.push(e.message));
    await p.addInitScript(countWebSockets);
    if (opts.clock) {
      const t = Date.now();
      await p.clock.install({ time: t });
      // nothing is loaded yet, so nothing is due: the jump only makes sure it lands ahead of the running clock
      if (opts.clock === 'paused') await p.clock.pauseAt(t + 60_000);
    }
    await p.goto(url);
    return p;
  };
  /** This test's page, on a stopped clock (see open), in place of the one beforeEach opened. */
  const pausedPage = async (): Promise<Page> => {
    page = await open(server.url, { clock: 'paused' });
    await live(page);
    return page;
  };
  /** Waits until the page shows live data. */
  const live = (p: Page): Promise<void> => p.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 20_000 });

  beforeEach(async () => {
    if (monitor.isPaused()) monitor.resume();
    errors.length = 0;
    seen.length = 0;
    engineSaw.clear();
    unsubscribe = monitor.on('delta', (d) => {
      for (const s of d.added) if (s.listening && !engineSaw.has(s.localPort)) engineSaw.set(s.localPort, d.seq);
    });
    server = await startServer({ monitor, staticDir, port: 0, token, onRequest: log });
    page = await open(server.url);
    await live(page);
  });
  afterEach(async () => {
    unsubscribe();
    for (const p of pages.splice(0)) await p.context().close();
    for (const pid of detached.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
    await Promise.all(children.splice(0).map((c) => c.stop()));
    await server.close().catch(() => undefined); // a test may have closed it already
    expect(errors).toEqual([]);
  });

  const rowOf = (port: string | number) => page.locator(`[data-testid=socket-row][data-socket-id*="|${port}|"]`);
  /**
   * The list is virtualized: a row far down is not in the page. Other programs on this machine may hold
   * thousands of sockets, so tests that look for their own rows search for their process first, as a user would.
   */
  const only = (q: string) => page.getByTestId('search').fill(q);
  /** The start of the ids of a TCP listener's rows on 127.0.0.1 (see rowHistories). */
  const tcpLocal = (port: string | number): string => `tcp|127.0.0.1|${port}|`;
  /** A listener on 127.0.0.1 run as NAME; firstLine is its port. */
  const listener = async (): Promise<Child> => {
    const child = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    children.push(child);
    return child;
  };

  it('shows a new listener under its process name at the next poll, highlighted as new, then closed, then gone', async () => {
    await pausedPage();
    await only(`proc:${NAME}`);
    await recordRows(page);
    const child = await listener();
    const port = child.firstLine;
    const g = group(page, NAME);
    await g.locator(`[data-testid=port-chip]:text-is(":${port}")`).waitFor({ timeout: 20_000 });
    expect(await g.textContent()).toContain(`pid ${child.pid}`);
    const row = rowOf(port);
    await row.waitFor();
    const text = await row.textContent();
    expect(text).toContain(`127.0.0.1:${port}`);
    expect(text).toContain('LISTEN');
    expect(text).toContain(NAME);
    await page.screenshot({ path: join(SHOTS, 'web-live-view.png') });
    // Prompt, counted in polls rather than seconds (the time it takes is measured by bench/web.mjs): the row
    // came with the poll in which the engine first saw the listener, or at worst while the next one arrived.
    const saw = await waitFor(() => engineSaw.get(Number(port)), 10_000, 'the engine to see the listener');
    const [history, ...others] = Object.values(await rowHistories(page, tcpLocal(port)));
    expect(others).toEqual([]);
    expect(history?.seq).toBeLessThanOrEqual(saw + 1);
    expect(history?.changes[0]).toBe('new');

    await child.stop();
    await waitRowShowed(page, tcpLocal(port), 'closed');
    await page.screenshot({ path: join(SHOTS, 'web-closed-row.png') });
    // its highlight lasts 5 s of the page's time: let them pass
    await page.clock.runFor(HIGHLIGHT_MS.closed + 1000);
    await waitRowsGone(page, tcpLocal(port));
    const [after] = Object.values(await rowHistories(page, tcpLocal(port)));
    expect(after?.changes).toEqual(['new', 'closed', 'gone']);
    await g.waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('search narrows the rows to a real listener; a bad query says why', async () => {
    await only(`proc:${NAME}`);
    const child = await listener();
    const port = child.firstLine;
    await rowOf(port).waitFor({ timeout: 20_000 });
    await only('');
    const search = page.getByTestId('search');
    await page.keyboard.press('Escape');
    await page.locator('body').press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('search');
    await page.keyboard.type(`lport:${port} proc:${NAME}`);
    await page.waitForFunction(
      (p) => {
        const rows = [...document.querySelectorAll('[data-testid=socket-row]')];
        return rows.length > 0 && rows.every((r) => (r.getAttribute('data-socket-id') ?? '').includes(`|${p}|`));
      },
      port,
      { timeout: 10_000 },
    );
    expect(await page.locator('[data-testid=socket-row]').count()).toBe(1);
    await search.fill('state:bogus');
    expect(await page.getByTestId('search-error').textContent()).toMatch(/"bogus" is not a state/);
  });

  it('every group-by mode shows groups', async () => {
    const select = page.getByTestId('group-by');
    // each mode's own group keys, so that the groups of the mode before cannot pass for them
    const keys: Record<string, string> = {
      'local-port': '^(tcp|udp|udplite|raw|icmp|mptcp):→?\\d+$', // → : the clients of a remote port
      'remote-host': '^(-|h:.+)$',
      state: '^s:[A-Z_0-9]+$',
      netns: '^n:(net:\\[\\d+\\])?$',
      process: '^(p:|hidden:|nf:|none$)',
    };
    for (const [mode, pattern] of Object.entries(keys)) {
      await select.selectOption(mode);
      await page.waitForFunction(
        (re) => {
          const groups = [...document.querySelectorAll('[data-testid=group]')];
          return groups.length > 0 && groups.every((g) => new RegExp(re).test(g.getAttribute('data-group-key') ?? ''));
        },
        pattern,
        { timeout: 10_000 },
      );
    }
    await select.selectOption('none');
    await page.locator('[data-testid=group]').first().waitFor({ state: 'detached', timeout: 10_000 });
    expect(await page.locator('[data-testid=socket-row]').count()).toBeGreaterThan(0);
  });

  it('opens details with the full command line from a row and from the keyboard; Esc closes', async () => {
    await only(`proc:${NAME}`);
    const child = await listener();
    const row = rowOf(child.firstLine);
    await row.waitFor({ timeout: 20_000 });
    await row.click();
    const details = page.getByTestId('details');
    await details.waitFor();
    expect(await page.getByTestId('details-cmdline').textContent()).toContain('createServer');
    expect(await details.textContent()).toContain(`127.0.0.1:${child.firstLine}`);
    await page.screenshot({ path: join(SHOTS, 'web-details.png') });
    await page.keyboard.press('Escape');
    await details.waitFor({ state: 'detached' });
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await details.waitFor();
    await page.keyboard.press('Escape');
    await details.waitFor({ state: 'detached' });
  });

  it('closes one connection from its details; the outcome shows for that connection only', async () => {
    await only(`proc:${NAME} state:established`);
    // a listener with two connections to itself, the client ends on ports it prints
    const pairs = `const net = require('net'); const s = net.createServer((c) => c.on('error', () => {})).listen(0, '127.0.0.1', () => {
      const a = net.connect(s.address().port, '127.0.0.1', () => { const b = net.connect(s.address().port, '127.0.0.1', () =>
        console.log(a.localPort + ' ' + b.localPort)); b.on('error', () => {}); }); a.on('error', () => {}); });`;
    const child = await spawnReady(join(tmp, NAME), ['-e', pairs]);
    children.push(child);
    const [first, second] = child.firstLine.split(' ');
    const rowA = page.locator(`[data-testid=socket-row][data-socket-id^="tcp|127.0.0.1|${first}|"]`);
    const rowB = page.locator(`[data-testid=socket-row][data-socket-id^="tcp|127.0.0.1|${second}|"]`);
    await rowA.waitFor({ timeout: 20_000 });
    await rowA.click();
    await page.getByTestId('close-connection').click();
    await page.locator('[data-testid=close-result]:has-text("Closed:")').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'web-closed-connection.png') });
    await rowB.click();
    await page.getByTestId('close-connection').waitFor();
    expect(await page.getByTestId('close-result').count()).toBe(0); // A's outcome is not B's
  });

  it('Freeze view holds the rows while changes wait underneath; Unfreeze shows them', async () => {
    await pausedPage();
    await only(`proc:${NAME}`);
    await recordRows(page);
    await page.getByTestId('freeze').click();
    await page.locator('[data-testid=freeze][aria-pressed=true]').waitFor();
    const child = await listener();
    const port = Number(child.firstLine);
    // wait until the engine has seen it, and the page has received that poll
    const seq = await waitFor(() => engineSaw.get(port), 10_000, 'engine sees it');
    await page.waitForFunction((q) => Number(document.querySelector('[data-testid=status-bar]')?.getAttribute('data-seq')) >= q, seq, { timeout: 10_000 });
    expect(await page.getByTestId('frozen').textContent()).toMatch(/[1-9]\d* changes? waiting/);
    expect(await rowHistories(page, tcpLocal(port))).toEqual({}); // never shown while frozen
    expect(monitor.isPaused()).toBe(false); // the engine keeps polling
    await page.getByTestId('freeze').click();
    await rowOf(port).waitFor({ timeout: 10_000 });
    const shown = Object.values(await rowHistories(page, tcpLocal(port)));
    expect(shown.map((h) => h.changes[0])).toEqual(['new']);
  });

  it('Pause polling stops the engine for every client, and says so; Resume polling starts it again', async () => {
    await page.getByTestId('pause-polling').click();
    await waitFor(() => (monitor.isPaused() ? true : undefined), 10_000, 'engine paused');
    await page.locator('[data-testid=pause-polling][aria-pressed=true]').waitFor();
    await page.locator('[data-testid=status-bar]:has-text("Polling paused")').waitFor({ timeout: 10_000 });
    await page.getByTestId('pause-polling').click();
    await waitFor(() => (monitor.isPaused() ? undefined : true), 10_000, 'engine resumed');
    await page.locator('[data-testid=pause-polling][aria-pressed=false]').waitFor();
  });

  it('resolves remote host names when asked: loopback peers read localhost', async () => {
    // a connection of our own to 127.0.0.1, found by its process among however many others the machine has
    const connected = `const net = require('net'); const s = net.createServer((c) => c.on('error', () => {})).listen(0, '127.0.0.1', () => {
      const c = net.connect(s.address().port, '127.0.0.1', () => console.log(c.localPort)); c.on('error', () => {}); });`;
    const child = await spawnReady(join(tmp, NAME), ['-e', connected]);
    children.push(child);
    await only(`proc:${NAME} state:established`);
    const client = page.locator(`[data-testid=socket-row][data-socket-id^="tcp|127.0.0.1|${child.firstLine}|"]`);
    await client.waitFor({ timeout: 20_000 });
    expect(await client.locator('.c-host').textContent()).toBe('');
    await page.getByTestId('more').click(); // Resolve names lives in the toolbar's More menu
    await page.getByTestId('reverse-dns').click();
    await page.locator('[data-testid=reverse-dns][aria-pressed=true]').waitFor({ state: 'attached' });
    await client.locator('.c-host:text-is("localhost")').waitFor({ timeout: 10_000 });
    await page.getByTestId('group-by').selectOption('remote-host');
    const peers = page.locator('[data-testid=group][data-group-key="h:127.0.0.1"]');
    await peers.locator('[data-testid=group-name]:text-is("localhost")').waitFor({ timeout: 10_000 });
    expect(await page.locator('[data-testid=group]').count()).toBe(1); // both ends of it, under their peer's name
  });

  it('shows charts: sockets by state, throughput, traffic, top processes', async () => {
    await page.getByTestId('charts-toggle').click();
    const charts = page.getByTestId('charts');
    await charts.waitFor();
    // 1200 px wide: two at a time; the netlink source has byte counters, so the Traffic chart is in the second pair
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=charts] .recharts-wrapper').length === 2, null, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=charts] .recharts-area-area').length > 0, null, { timeout: 10_000 });
    expect(await charts.textContent()).toMatch(/Sockets by state[\s\S]*Throughput/);
    await page.screenshot({ path: join(SHOTS, 'web-charts.png') });
    await page.getByTestId('charts-pair-1').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=charts] .recharts-wrapper').length === 2, null, { timeout: 10_000 });
    await page.getByTestId('chart-traffic').waitFor();
    expect(await charts.textContent()).toMatch(/Traffic by process[\s\S]*most sockets/);
  });

  it('exports the filtered view as CSV and JSON', async () => {
    await only(`proc:${NAME}`);
    const child = await listener();
    await rowOf(child.firstLine).waitFor({ timeout: 20_000 });
    await only(`proc:${NAME} lport:${child.firstLine}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=socket-row]').length === 1, null, { timeout: 10_000 });
    await page.getByTestId('more').click(); // Export lives in the toolbar's More menu
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const csvText = readFileSync((await csv.path()) as string, 'utf8');
    const lines = csvText.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^id,protocol,family,localAddress,localPort/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`,127.0.0.1,${child.firstLine},`);
    await page.getByTestId('more').click();
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    const data = JSON.parse(readFileSync((await json.path()) as string, 'utf8')) as { sockets: Array<{ localPort: number; pid: number }> };
    expect(data.sockets.map((x) => [x.localPort, x.pid])).toEqual([[Number(child.firstLine), child.pid]]);
  });

  it('kills a real listening server from its row, after naming it, and sees it gone from the view and the OS', async () => {
    await pausedPage();
    await only(`proc:${NAME}`);
    await recordRows(page);
    const { pid, rest: port } = await spawnDetached(join(tmp, NAME), ['-e', DETACHED_LISTENER()]);
    detached.push(pid);
    const row = rowOf(port);
    await row.waitFor({ timeout: 20_000 });
    await row.click();
    await page.getByTestId('details').getByTestId('kill').click();
    const dialog = page.getByTestId('confirm-kill');
    await dialog.waitFor();
    const text = await dialog.textContent();
    // named as people think of it (processSummary: node running -e), every listener in full
    expect(text).toContain(`Kill ${NAME} -e (pid ${pid})?`);
    expect(text).toContain(`tcp 127.0.0.1:${port}`);
    expect(text).toContain('createServer');
    await page.screenshot({ path: join(SHOTS, 'web-kill-confirm.png') });
    await page.getByTestId('confirm-kill-yes').click();
    await page.locator('[data-testid=kill-result][data-result=exited]').waitFor({ timeout: 15_000 });
    expect(isRunning(pid)).toBe(false); // gone from the OS
    await page.getByTestId('kill-close').click();
    // and from the view: marked closed, then, once the page's clock has moved past that highlight, removed
    await waitRowShowed(page, tcpLocal(port), 'closed');
    await page.clock.runFor(HIGHLIGHT_MS.closed + 1000);
    await waitRowsGone(page, tcpLocal(port));
    expect(Object.values(await rowHistories(page, tcpLocal(port))).map((h) => h.changes)).toEqual([['new', 'closed', 'gone']]);
    await page.getByTestId('log-toggle').click();
    await page.locator('[data-testid=action-entry][data-result=exited]').first().waitFor();
    expect(await page.getByTestId('action-log').textContent()).toMatch(new RegExp(`Kill ${NAME} \\(pid ${pid}\\): exited \\d+ ms after SIGTERM`));
  });

  it('a process deaf to SIGTERM is reported still running; Force, confirmed again, ends it', async () => {
    await only(`proc:${NAME}`);
    const { pid, rest: port } = await spawnDetached(join(tmp, NAME), ['-e', DETACHED_LISTENER(true)]);
    detached.push(pid);
    await group(page, NAME)
      .filter({ has: page.locator(`[data-testid=port-chip]:text-is(":${port}")`) })
      .getByTestId('kill')
      .click({ timeout: 20_000 });
    await page.getByTestId('confirm-kill-yes').click();
    await page.locator('[data-testid=kill-result][data-result=still-running]').waitFor({ timeout: 20_000 });
    expect(isRunning(pid)).toBe(true);
    await page.getByTestId('force').click();
    await page.getByTestId('confirm-force').waitFor();
    await page.getByTestId('confirm-force-yes').click();
    await page.locator('[data-testid=kill-result][data-result=exited]').waitFor({ timeout: 15_000 });
    expect(isRunning(pid)).toBe(false);
    await page.getByTestId('kill-close').click();
  });

  it('leaves no token in the address bar, the history, or any request to the server', async () => {
    expect(server.url).toMatch(/\/#token=/);
    expect(page.url()).toBe(`http://127.0.0.1:${server.port}/`);
    expect(await page.evaluate(() => location.hash)).toBe('');
    // the page loaded its scripts and opened its WebSocket, and none of those requests named the token
    expect(seen.some((r) => r.startsWith('GET /assets/'))).toBe(true);
    expect(seen.some((r) => r.startsWith('GET /api/ws '))).toBe(true);
    for (const r of seen) expect(r).not.toContain(token);
    expect(seen.join('\n')).not.toMatch(/cookie/i);
    expect(await page.evaluate(() => document.cookie)).toBe('');
  });

  it('sends no token to another server on the same host (cookies are per host, not per port)', async () => {
    const other: string[] = [];
    const spy = createServer((req, res) => {
      other.push(`${req.url} ${JSON.stringify(req.headers)}`);
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<p>elsewhere</p>');
    });
    await new Promise<void>((r) => spy.listen(0, '127.0.0.1', r));
    const spyPort = (spy.address() as { port: number }).port;
    try {
      // this page has shown the token and holds it for its session
      await page.goto(`http://127.0.0.1:${spyPort}/from-portwatch`);
      await page.evaluate(() => fetch('/fetched', { credentials: 'include' }).then((r) => r.text()));
      expect(other.length).toBeGreaterThanOrEqual(2);
      for (const r of other) {
        expect(r).not.toContain(token);
        expect(r).not.toContain('portwatch_token');
      }
    } finally {
      // Chromium may hold a spare connection that never sends a request: close() alone would wait for it
      spy.closeAllConnections();
      await new Promise((r) => spy.close(r));
    }
  });

  it('a page whose token is refused says so and stops retrying', async () => {
    const before = seen.length;
    const tab = await open(`http://127.0.0.1:${server.port}/#token=${'x'.repeat(32)}`, { clock: true });
    const banner = tab.getByTestId('token-refused');
    await banner.waitFor({ timeout: 20_000 });
    expect(await banner.textContent()).toMatch(/restarted with a new token/);
    expect(tab.url()).toBe(`http://127.0.0.1:${server.port}/`);
    const upgrades = (): number => seen.slice(before).filter((r) => r.startsWith('GET /api/ws ')).length;
    expect(upgrades()).toBe(1);
    expect(await socketsMade(tab)).toBe(1);
    // an hour of the page's time: a retry (after 1 s, then 2, 4, ... up to 30) would have made a WebSocket
    await tab.clock.runFor(3_600_000);
    expect(await socketsMade(tab)).toBe(1);
    await tab.screenshot({ path: join(SHOTS, 'web-token-refused.png') });
  });

  it('survives a dropped connection: says so, reconnects, and resynchronises from a fresh snapshot', async () => {
    await only(`proc:${NAME}`);
    const { port } = server;
    await server.close();
    await page.locator('[data-testid=status-bar][data-state=disconnected]').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(SHOTS, 'web-disconnected.png') });
    // something opens while the page is cut off
    const child = await listener();
    // the same token, read back from the token file, as `serve --token-file` would after a restart
    const kept = loadTokenFile(tokenFile);
    expect(kept).toEqual({ ok: true, token, created: false });
    server = await startServer({ monitor, staticDir, port, token: (kept as { token: string }).token, onRequest: log });
    // the same tab, not reloaded: it shows its kept token again
    await live(page);
    await group(page, NAME).locator(`[data-testid=port-chip]:text-is(":${child.firstLine}")`).waitFor({ timeout: 20_000 });
  });

  it('a server restarted with another token: the open tab says so and stops retrying', async () => {
    const tab = await open(server.url, { clock: true });
    await live(tab);
    const { port } = server;
    await server.close();
    await tab.locator('[data-testid=status-bar][data-state=disconnected]').waitFor({ timeout: 10_000 });
    server = await startServer({ monitor, staticDir, port, onRequest: log });
    // it retries (after a second of its time) and is refused
    await tab.getByTestId('token-refused').waitFor({ timeout: 20_000 });
    expect(await tab.getByTestId('token-refused').textContent()).toMatch(/server restarted with a new token/);
    // the first, and one or more retries (one may come before the new server listens)
    const made = await socketsMade(tab);
    expect(made).toBeGreaterThanOrEqual(2);
    await tab.clock.runFor(3_600_000);
    expect(await socketsMade(tab)).toBe(made);
  });

  it('a read-only server: the page says so and offers no kill, close, interval or baseline controls', async () => {
    const readOnly = await startServer({ monitor, staticDir, port: 0, readOnly: true });
    try {
      const other = await open(readOnly.url);
      await live(other);
      await other.getByTestId('read-only').waitFor({ timeout: 10_000 });
      await other.locator('[data-testid=group]').first().waitFor({ timeout: 10_000 });
      expect(await other.locator('[data-testid=kill]').count()).toBe(0);
      expect(await other.getByTestId('interval').isDisabled()).toBe(true);
      expect(await other.getByTestId('reverse-dns').isDisabled()).toBe(true);
      await other.locator('[data-testid=socket-row]').first().click();
      await other.getByTestId('read-only-actions').waitFor({ timeout: 10_000 });
      expect(await other.locator('[data-testid=close-connection], [data-testid=accept-baseline]').count()).toBe(0);
      // and the page of the server with control still has them
      expect(await page.getByTestId('read-only').count()).toBe(0);
    } finally {
      await readOnly.close();
    }
  });
});
