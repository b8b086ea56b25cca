import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { startServer, type RunningServer } from '../../src/main/server';
import { whyNoUdpCounters } from '../../src/shared/traffic';
import { launchChromium } from '../helpers/browser';
import { spawnReady, waitFor, type Child } from '../helpers/children';
import { ROOT, WORKER } from '../helpers/paths';
import { MOVER, readAcct } from '../helpers/traffic';

/** Our processes' name (a symlink to node), of this run only: `proc:NAME` matches nothing else on the machine. */
const NAME = `pw-trf-${randomBytes(4).toString('hex')}`;

/**
 * Traffic in the UI, in a real Chromium over web mode, with real loopback traffic: the process groups'
 * sparklines, tree mode, the Traffic chart, honest UDP cells and the conntrack offer, and the rate columns
 * giving way for a source without counters (systeminformation's).
 */
describe('traffic in the UI, in Chromium', { timeout: 120_000 }, () => {
  let monitor: MonitorHost;
  let server: RunningServer;
  let browser: Browser;
  let tmp: string;
  let staticDir: string;
  let page: Page;
  let mover: Child;
  let idle: Child;
  const extra: Array<{ close: () => Promise<void> }> = [];
  const errors: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'pw-traffic-'));
    symlinkSync(process.execPath, join(tmp, NAME));
    staticDir = join(tmp, 'renderer');
    cpSync(join(ROOT, 'out', 'renderer'), staticDir, { recursive: true });
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 500 });
    monitor.start();
    server = await startServer({ monitor, staticDir, port: 0, baselinePath: join(tmp, 'config', 'baseline.json') });
    browser = await launchChromium();
    // about 3 MB/s over loopback: the busiest process on a quiet machine, and plainly more than nothing
    mover = await spawnReady(join(tmp, NAME), ['-e', MOVER, '65536']);
    idle = await spawnReady(join(tmp, NAME), ['-e', MOVER, '0']);
  });
  afterAll(async () => {
    await Promise.all([mover?.stop(), idle?.stop()]);
    for (const x of extra.splice(0)) await x.close();
    await browser?.close();
    await server?.close();
    await monitor?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(async () => {
    await page?.context().close();
    expect(errors.splice(0)).toEqual([]);
  });

  const open = async (url = server.url, opts: { width?: number; dark?: boolean } = {}): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: opts.width ?? 1440, height: 800 }, colorScheme: opts.dark ? 'dark' : 'light' });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 60_000 });
    await page.getByTestId('search').fill(`proc:${NAME}`);
    return page;
  };
  const groupOf = (pid: number) => page.locator(`[data-testid=group][data-group-key^="p:${pid}:"]`);

  it('a process moving bytes draws a sparkline with a peak; one moving none draws a flat one', async () => {
    await open();
    const spark = groupOf(mover.pid).locator('[data-testid=sparkline][data-empty=false]');
    // a line through several polls (M then L ...): the page records from when it opened
    await page.waitForFunction(
      (pid) => {
        const d =
          document.querySelector(`[data-testid=group][data-group-key^="p:${pid}:"] [data-testid=sparkline][data-empty=false] path`)?.getAttribute('d') ?? '';
        return /^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){2,}/.test(d);
      },
      mover.pid,
      { timeout: 30_000 },
    );
    expect(Number(await spark.getAttribute('data-peak'))).toBeGreaterThan(100_000);
    expect(await spark.getAttribute('aria-label')).toMatch(/^In \+ out over the last 60 s: now .+\/s, peak .+\/s$/);
    // the idle one: its TCP connection has counters and no traffic, a flat line at 0 (its idle UDP pair adds nothing)
    const flat = groupOf(idle.pid).locator('svg[data-testid=sparkline]');
    await flat.waitFor({ timeout: 30_000 });
    expect(await flat.getAttribute('data-empty')).toBe('true');
  });

  it('tree mode: process, remote host, port, with the rates summed at each level; opens and closes by keyboard', async () => {
    await open();
    await page.getByTestId('group-by').selectOption('tree');
    const top = page.locator(`[data-testid=tree-node][data-depth="0"][data-node-key^="p:${mover.pid}:"]`);
    await top.waitFor();
    const key = (await top.getAttribute('data-node-key')) as string;
    const host = page.locator(`[data-testid=tree-node][data-node-key="${key}|h:127.0.0.1"]`);
    // hosts start closed: their ports show once opened
    expect(await host.getAttribute('aria-expanded')).toBe('false');
    await host.click();
    await page.locator(`[data-testid=tree-node][data-depth="2"][data-node-key^="${key}|h:127.0.0.1|"]`).first().waitFor();
    // the sums of one render: the process is its hosts' sum, the host its ports' sum; and it moves bytes
    await page.waitForFunction(
      (k) => Number(document.querySelector(`[data-testid=tree-node][data-node-key="${k}"]`)?.getAttribute('data-rate')) > 100_000,
      key,
      {
        timeout: 30_000,
      },
    );
    const sums = await page.evaluate((k) => {
      const rate = (el: Element): number => Number(el.getAttribute('data-rate') ?? 0);
      const nodes = [...document.querySelectorAll('[data-testid=tree-node]')];
      const of = (prefix: string, depth: number): Element[] =>
        nodes.filter((n) => n.getAttribute('data-depth') === String(depth) && (n.getAttribute('data-node-key') ?? '').startsWith(prefix));
      const total = (els: Element[]): number => els.reduce((a, e) => a + rate(e), 0);
      const topEl = nodes.find((n) => n.getAttribute('data-node-key') === k) as Element;
      const hostEl = nodes.find((n) => n.getAttribute('data-node-key') === `${k}|h:127.0.0.1`) as Element;
      return {
        process: rate(topEl),
        hosts: total(of(`${k}|h:`, 1)),
        host: rate(hostEl),
        ports: total(of(`${k}|h:127.0.0.1|`, 2)),
        portLabels: of(`${k}|h:127.0.0.1|`, 2).map((e) => e.querySelector('[data-testid=tree-label]')?.textContent),
        udpPort: of(`${k}|h:127.0.0.1|p:udp:`, 2).map((e) => e.querySelector('[data-testid=tree-rate]')?.textContent),
        text: topEl.querySelector('[data-testid=tree-rate]')?.textContent,
      };
    }, key);
    expect(sums.process).toBe(sums.hosts);
    expect(sums.host).toBe(sums.ports);
    expect(sums.host).toBeGreaterThan(100_000);
    // the client's end (remote port: the listener's) and the server's end (remote: the client's port), and UDP
    expect(sums.portLabels).toContain(`tcp :${mover.firstLine.split(' ')[0]}`);
    // a UDP port without counters sums to n/a, never to 0
    expect(sums.udpPort).toEqual(['n/a']);
    expect(sums.text).toMatch(/^↓ .+\/s ↑ .+\/s \+n\/a$/);
    // keyboard: ← closes the focused heading, Enter opens it again, ↓ moves to the next heading
    await top.focus();
    await page.keyboard.press('ArrowLeft');
    await host.waitFor({ state: 'detached' });
    expect(await top.getAttribute('aria-expanded')).toBe('false');
    await page.keyboard.press('Enter');
    await host.waitFor();
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-node-key'))).toMatch(new RegExp(`^${key.replace(/[.:|]/g, '\\$&')}\\|h:`));
  });

  it('the Traffic chart stacks the process moving bytes, and its remote host, under the ceiling', async () => {
    await open();
    await page.getByTestId('charts-toggle').click();
    const chart = page.getByTestId('chart-traffic');
    await chart.waitFor();
    const label = `${NAME} -e (${mover.pid})`;
    await page.waitForFunction(
      (l) => [...document.querySelectorAll('[data-testid=chart-traffic] .recharts-legend-item-text')].some((e) => e.textContent === l),
      label,
      { timeout: 30_000 },
    );
    // a stacked area per series, at most five and other, and the ceiling's line
    const series = Number(await chart.getAttribute('data-series'));
    expect(series).toBeGreaterThanOrEqual(1);
    expect(series).toBeLessThanOrEqual(6);
    expect(await chart.locator('.recharts-area').count()).toBe(series);
    expect(await chart.locator('.recharts-legend-item-text', { hasText: 'all interfaces' }).count()).toBe(1);
    await page.getByTestId('traffic-by-host').click();
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid=chart-traffic] .recharts-legend-item-text')].some((e) => e.textContent === '127.0.0.1'),
      null,
      { timeout: 30_000 },
    );
    expect(await chart.getAttribute('data-kind')).toBe('hosts');
  });

  it("a UDP socket's rate cells say n/a and why; as root with accounting off, the offer asks before it writes", async () => {
    await open();
    const status = await waitFor(() => {
      const s = monitor.getStatus();
      return s?.state === 'ok' ? s : undefined;
    });
    const state = status.udpCounters;
    const udp = page.locator(`[data-testid=socket-row][data-socket-id^="udp|127.0.0.1|${mover.firstLine.split(' ')[1]}|"]`);
    await udp.waitFor({ timeout: 30_000 });
    if (state !== 'conntrack') {
      for (const c of ['rateIn', 'rateOut', 'bytes']) {
        const cell = udp.locator(`.c-${c}`);
        expect(await cell.textContent()).toBe('n/a');
        expect(await cell.getAttribute('title')).toBe(`n/a: ${whyNoUdpCounters(state)}`);
      }
    }
    const note = page.getByTestId('udp-counters');
    expect(await note.getAttribute('data-state')).toBe(state);
    const offer = page.getByTestId('conntrack-offer');
    if (state !== 'acct-off' || process.getuid?.() !== 0) {
      expect(await offer.count()).toBe(0);
      return;
    }
    const before = readAcct();
    await offer.click();
    const dialog = page.getByTestId('conntrack-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('net.netfilter.nf_conntrack_acct=1');
    await page.getByTestId('conntrack-cancel').click();
    await dialog.waitFor({ state: 'detached' });
    // cancelled: nothing written (confirmed, in a namespace of its own: trafficNetns.e2e.test.ts)
    expect(readAcct()).toBe(before);
  });

  it('the rate columns give way for a source without counters (systeminformation), and stay for netlink', async () => {
    await open();
    await page.locator('.table[data-rates=shown]').waitFor();
    expect(await page.getByTestId('sort-rateIn').isVisible()).toBe(true);
    await page.context().close();

    const si = new MonitorHost({ workerPath: WORKER, intervalMs: 2000, source: 'systeminformation' });
    si.start();
    const siServer = await startServer({ monitor: si, staticDir, port: 0, baselinePath: join(tmp, 'config-si', 'baseline.json') });
    extra.push({ close: () => siServer.close() }, { close: () => si.stop() });
    await open(siServer.url);
    await page.waitForFunction(() => document.querySelector('[data-testid=status-bar]')?.textContent?.includes('systeminformation'), null, { timeout: 60_000 });
    await page.locator('.table[data-rates=none]').waitFor();
    for (const c of ['rateIn', 'rateOut', 'bytes']) expect(await page.getByTestId(`sort-${c}`).isVisible()).toBe(false);
    expect(await page.getByTestId('sort-age').isVisible()).toBe(true);
    // and no Traffic chart: there is nothing it could stack
    await page.getByTestId('charts-toggle').click();
    await page.getByTestId('chart-rates').waitFor();
    expect(await page.getByTestId('chart-traffic').count()).toBe(0);
  });
});
