import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:http';
import { loadTokenFile, startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { DETACHED_LISTENER, isRunning, NODE_LISTENER, spawnDetached, spawnReady, waitFor, type Child } from '../helpers/children';
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
  /** Uncaught errors in the page, over the whole run: checked after load and by the last test. */
  const errors: string[] = [];
  /** Every HTTP request and WebSocket upgrade the server saw: method, URL and headers. */
  const seen: string[] = [];
  const log = (req: IncomingMessage): void => void seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
  let tokenFile: string;
  let token: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    tmp = mkdtempSync(join(tmpdir(), 'pw-e2e-'));
    symlinkSync(process.execPath, join(tmp, NAME));
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 1000 });
    monitor.start();
    tokenFile = join(tmp, 'token');
    token = (loadTokenFile(tokenFile) as { token: string }).token;
    server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0, token, onRequest: log });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
  });

  const detached: number[] = [];
  afterAll(async () => {
    for (const pid of detached) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
    await Promise.all(children.map((c) => c.stop()));
    await browser?.close();
    await server?.close();
    await monitor?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const rowOf = (port: string | number) => page.locator(`[data-testid=socket-row][data-socket-id*="|${port}|"]`);
  /**
   * The list is virtualized: a row far down is not in the page. The rest of the suite opens sockets on this
   * machine too, so tests that look for their own rows search for their process first, as a user would.
   */
  const only = (q: string) => page.getByTestId('search').fill(q);

  it('shows a new listener under its process name within 2 s, highlighted as new, then closed, then gone', async () => {
    await only(`proc:${NAME}`);
    const child = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    children.push(child);
    const started = Date.now();
    const port = child.firstLine;
    const g = group(page, NAME);
    await g.locator(`[data-testid=port-chip]:text-is(":${port}")`).waitFor({ timeout: 2000 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await g.textContent()).toContain(`pid ${child.pid}`);
    const row = rowOf(port);
    await row.waitFor();
    expect(await row.getAttribute('data-change')).toBe('new');
    const text = await row.textContent();
    expect(text).toContain(`127.0.0.1:${port}`);
    expect(text).toContain('LISTEN');
    expect(text).toContain(NAME);
    await page.screenshot({ path: join(SHOTS, 'web-live-view.png') });

    await child.stop();
    // seen closed at the next poll (the machine may be busy with the rest of the suite: allow a few)
    await page.locator(`[data-testid=socket-row][data-socket-id*="|${port}|"][data-change=closed]`).waitFor({ timeout: 6000 });
    await page.screenshot({ path: join(SHOTS, 'web-closed-row.png') });
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    await g.waitFor({ state: 'detached', timeout: 5000 });
    await only('');
  });

  it('search narrows the rows to a real listener; a bad query says why', async () => {
    await only(`proc:${NAME}`);
    const child = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    children.push(child);
    const port = child.firstLine;
    await rowOf(port).waitFor({ timeout: 3000 });
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
      { timeout: 3000 },
    );
    expect(await page.locator('[data-testid=socket-row]').count()).toBe(1);
    await search.fill('state:bogus');
    expect(await page.getByTestId('search-error').textContent()).toMatch(/"bogus" is not a state/);
    await search.fill('');
    await child.stop();
  });

  it('every group-by mode shows groups', async () => {
    const select = page.getByTestId('group-by');
    // each mode's own group keys, so that the groups of the mode before cannot pass for them
    const keys: Record<string, string> = {
      'local-port': '^(tcp|udp|udplite|raw|icmp|mptcp):\\d+$',
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
        { timeout: 3000 },
      );
    }
    await select.selectOption('none');
    await page.locator('[data-testid=group]').first().waitFor({ state: 'detached', timeout: 3000 });
    expect(await page.locator('[data-testid=socket-row]').count()).toBeGreaterThan(0);
    await select.selectOption('process');
  });

  it('opens details with the full command line from a row and from the keyboard; Esc closes', async () => {
    await only(`proc:${NAME}`);
    const child = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    children.push(child);
    const row = rowOf(child.firstLine);
    await row.waitFor({ timeout: 3000 });
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
    await child.stop();
    await only('');
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
    await rowA.waitFor({ timeout: 3000 });
    await rowA.click();
    await page.getByTestId('close-connection').click();
    await page.locator('[data-testid=close-result]:has-text("Closed:")').waitFor({ timeout: 5000 });
    await page.screenshot({ path: join(SHOTS, 'web-closed-connection.png') });
    await rowB.click();
    await page.getByTestId('close-connection').waitFor();
    expect(await page.getByTestId('close-result').count()).toBe(0); // A's outcome is not B's
    await page.keyboard.press('Escape');
    await child.stop();
    await only('');
  });

  it('Freeze view holds the rows while changes wait underneath; Unfreeze shows them', async () => {
    await only(`proc:${NAME}`);
    await page.getByTestId('freeze').click();
    await page.locator('[data-testid=freeze][aria-pressed=true]').waitFor();
    const child = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    children.push(child);
    const port = Number(child.firstLine);
    // wait until the engine has seen it, and the page has received that poll
    const seq = await waitFor(() => (monitor.getSnapshot()?.sockets.some((s) => s.localPort === port) ? monitor.getSnapshot()?.seq : undefined), 5000, 'engine sees it');
    await page.waitForFunction((q) => Number(document.querySelector('[data-testid=status-bar]')?.getAttribute('data-seq')) >= q, seq, { timeout: 5000 });
    expect(await page.getByTestId('frozen').textContent()).toMatch(/[1-9]\d* changes? waiting/);
    expect(await rowOf(port).count()).toBe(0);
    expect(monitor.isPaused()).toBe(false); // the engine keeps polling
    await page.getByTestId('freeze').click();
    await page.locator(`[data-testid=socket-row][data-socket-id*="|${port}|"][data-change=new]`).waitFor({ timeout: 3000 });
    await child.stop();
    await only('');
  });

  it('Pause polling stops the engine for every client, and says so; Resume polling starts it again', async () => {
    await page.getByTestId('pause-polling').click();
    await waitFor(() => (monitor.isPaused() ? true : undefined), 5000, 'engine paused');
    await page.locator('[data-testid=pause-polling][aria-pressed=true]').waitFor();
    await page.locator('[data-testid=status-bar]:has-text("Polling paused")').waitFor({ timeout: 5000 });
    await page.getByTestId('pause-polling').click();
    await waitFor(() => (monitor.isPaused() ? undefined : true), 5000, 'engine resumed');
    await page.locator('[data-testid=pause-polling][aria-pressed=false]').waitFor();
  });

  it('resolves remote host names when asked: loopback peers read localhost', async () => {
    await page.getByTestId('reverse-dns').click();
    await page.locator('[data-testid=reverse-dns][aria-pressed=true]').waitFor();
    // the browser's own connection to this server has 127.0.0.1 as its remote end
    await page.locator('[data-testid=socket-row] .c-host:text-is("localhost")').first().waitFor({ timeout: 5000 });
    await page.getByTestId('group-by').selectOption('remote-host');
    await page.locator('[data-testid=group-name]:text-is("localhost")').waitFor({ timeout: 3000 });
    await page.getByTestId('group-by').selectOption('process');
  });

  it('shows charts: sockets by state, throughput, top processes', async () => {
    await page.getByTestId('charts-toggle').click();
    const charts = page.getByTestId('charts');
    await charts.waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=charts] .recharts-wrapper').length === 3, null, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=charts] .recharts-area-area').length > 0, null, { timeout: 5000 });
    expect(await charts.textContent()).toMatch(/Sockets by state[\s\S]*Throughput[\s\S]*most sockets/);
    await page.screenshot({ path: join(SHOTS, 'web-charts.png') });
    await page.getByTestId('charts-toggle').click();
  });

  it('exports the filtered view as CSV and JSON', async () => {
    await only(`proc:${NAME}`);
    const child = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    children.push(child);
    await rowOf(child.firstLine).waitFor({ timeout: 3000 });
    await page.getByTestId('search').fill(`lport:${child.firstLine}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=socket-row]').length === 1, null, { timeout: 3000 });
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const csvText = readFileSync((await csv.path()) as string, 'utf8');
    const lines = csvText.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^id,protocol,family,localAddress,localPort/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`,127.0.0.1,${child.firstLine},`);
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    const data = JSON.parse(readFileSync((await json.path()) as string, 'utf8')) as { sockets: Array<{ localPort: number; pid: number }> };
    expect(data.sockets.map((x) => [x.localPort, x.pid])).toEqual([[Number(child.firstLine), child.pid]]);
    await page.getByTestId('search').fill('');
    await child.stop();
  });

  it('kills a real listening server from its row, after naming it, and sees it gone from the view and the OS', async () => {
    await only(`proc:${NAME}`);
    const { pid, rest: port } = await spawnDetached(join(tmp, NAME), ['-e', DETACHED_LISTENER()]);
    detached.push(pid);
    const row = rowOf(port);
    await row.waitFor({ timeout: 3000 });
    await row.click();
    await page.getByTestId('details').getByTestId('kill').click();
    const dialog = page.getByTestId('confirm-kill');
    await dialog.waitFor();
    const text = await dialog.textContent();
    expect(text).toContain(`Kill ${NAME} (pid ${pid})?`);
    expect(text).toContain(`tcp/${port}`);
    expect(text).toContain('createServer');
    await page.screenshot({ path: join(SHOTS, 'web-kill-confirm.png') });
    await page.getByTestId('confirm-kill-yes').click();
    await page.locator('[data-testid=kill-result][data-result=exited]').waitFor({ timeout: 5000 });
    expect(isRunning(pid)).toBe(false); // gone from the OS
    await page.getByTestId('kill-close').click();
    await page.locator(`[data-testid=socket-row][data-socket-id*="|${port}|"][data-change=closed]`).waitFor({ timeout: 5000 });
    await page.getByTestId('log-toggle').click();
    await page.locator('[data-testid=action-entry][data-result=exited]').first().waitFor();
    expect(await page.getByTestId('action-log').textContent()).toContain(`Kill SIGTERM ${NAME} (pid ${pid}): exited`);
    await page.getByTestId('log-toggle').click();
    await page.keyboard.press('Escape');
    await only('');
  });

  it('a process deaf to SIGTERM is reported still running; Force, confirmed again, ends it', async () => {
    await only(`proc:${NAME}`);
    const { pid, rest: port } = await spawnDetached(join(tmp, NAME), ['-e', DETACHED_LISTENER(true)]);
    detached.push(pid);
    await page.locator('[data-testid=group]', { has: page.locator(`[data-testid=port-chip]:text-is(":${port}")`) }).getByTestId('kill').click();
    await page.getByTestId('confirm-kill-yes').click();
    await page.locator('[data-testid=kill-result][data-result=still-running]').waitFor({ timeout: 8000 });
    expect(isRunning(pid)).toBe(true);
    await page.getByTestId('force').click();
    await page.getByTestId('confirm-force').waitFor();
    await page.getByTestId('confirm-force-yes').click();
    await page.locator('[data-testid=kill-result][data-result=exited]').waitFor({ timeout: 5000 });
    expect(isRunning(pid)).toBe(false);
    await page.getByTestId('kill-close').click();
    await only('');
  }, 30_000);

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
    const tab = await browser.newPage();
    try {
      await tab.goto(server.url);
      await tab.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 10_000 });
      await tab.goto(`http://127.0.0.1:${spyPort}/from-portwatch`);
      await tab.evaluate(() => fetch('/fetched', { credentials: 'include' }).then((r) => r.text()));
      expect(other.length).toBeGreaterThanOrEqual(2);
      for (const r of other) {
        expect(r).not.toContain(token);
        expect(r).not.toContain('portwatch_token');
      }
    } finally {
      await tab.close();
      await new Promise((r) => spy.close(r));
    }
  });

  it('a page whose token is refused says so and stops retrying', async () => {
    const tab = await browser.newPage();
    try {
      const before = seen.length;
      await tab.goto(`http://127.0.0.1:${server.port}/#token=${'x'.repeat(32)}`);
      const banner = tab.getByTestId('token-refused');
      await banner.waitFor({ timeout: 10_000 });
      expect(await banner.textContent()).toMatch(/restarted with a new token/);
      expect(tab.url()).toBe(`http://127.0.0.1:${server.port}/`);
      const upgrades = (): number => seen.slice(before).filter((r) => r.startsWith('GET /api/ws ')).length;
      expect(upgrades()).toBe(1);
      // the first retry would come after 1 s, the second after 3
      await new Promise((r) => setTimeout(r, 3500));
      expect(upgrades()).toBe(1);
      await tab.screenshot({ path: join(SHOTS, 'web-token-refused.png') });
    } finally {
      await tab.close();
    }
  });

  it('survives a dropped connection: says so, reconnects, and resynchronises from a fresh snapshot', async () => {
    await only(`proc:${NAME}`);
    const { port } = server;
    await server.close();
    await page.locator('[data-testid=status-bar][data-state=disconnected]').waitFor({ timeout: 5000 });
    await page.screenshot({ path: join(SHOTS, 'web-disconnected.png') });
    // something opens while the page is cut off
    const child = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, '127.0.0.1']);
    children.push(child);
    // the same token, read back from the token file, as `serve --token-file` would after a restart
    const kept = loadTokenFile(tokenFile);
    expect(kept).toEqual({ ok: true, token, created: false });
    server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port, token: (kept as { token: string }).token, onRequest: log });
    // the same tab, not reloaded: it shows its kept token again
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 10_000 });
    await group(page, NAME).locator(`[data-testid=port-chip]:text-is(":${child.firstLine}")`).waitFor({ timeout: 5000 });
    await child.stop();
  });

  it('a server restarted with another token: the open tab says so and stops retrying', async () => {
    const { port } = server;
    await server.close();
    await page.locator('[data-testid=status-bar][data-state=disconnected]').waitFor({ timeout: 5000 });
    server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port, onRequest: log });
    await page.getByTestId('token-refused').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('token-refused').textContent()).toMatch(/server restarted with a new token/);
    const count = (): number => seen.filter((r) => r.startsWith('GET /api/ws ')).length;
    const after = count();
    await new Promise((r) => setTimeout(r, 3500));
    expect(count()).toBe(after);
  });

  it('a read-only server: the page says so and offers no kill, close, interval or baseline controls', async () => {
    const readOnly = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0, readOnly: true });
    const other = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    other.on('pageerror', (e) => errors.push(e.message));
    try {
      await other.goto(readOnly.url);
      await other.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 10_000 });
      await other.getByTestId('read-only').waitFor({ timeout: 5000 });
      await other.locator('[data-testid=group]').first().waitFor({ timeout: 5000 });
      expect(await other.locator('[data-testid=kill]').count()).toBe(0);
      expect(await other.getByTestId('interval').isDisabled()).toBe(true);
      expect(await other.getByTestId('reverse-dns').isDisabled()).toBe(true);
      await other.locator('[data-testid=socket-row]').first().click();
      await other.getByTestId('read-only-actions').waitFor({ timeout: 5000 });
      expect(await other.locator('[data-testid=close-connection], [data-testid=accept-baseline]').count()).toBe(0);
      // and the page of the server with control still has them
      expect(await page.getByTestId('read-only').count()).toBe(0);
    } finally {
      await other.close();
      await readOnly.close();
    }
  });

  it('raised no uncaught error in the page all along', () => {
    expect(errors).toEqual([]);
  });
});
