import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { NODE_LISTENER, spawnReady, waitFor, type Child } from '../helpers/children';
import { ROOT, WORKER } from '../helpers/paths';

/** Our listeners' process name (a symlink to node), of this run only, fifteen characters (all a name keeps). */
const NAME = `pw-lay-${randomBytes(4).toString('hex')}`;

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * The window's layout, checked from element boxes in real Chromium at the sizes people use (1024x700 and
 * 1440x900): a toolbar on one line, a Details panel that leaves the Process column in view, badges that leave
 * the name readable, Exposure rows of one line. Each test has its own server and page; they share the engine
 * (no baseline file: every listener is unexpected, so the badges show) and Chromium.
 */
describe('layout end to end, in Chromium', { timeout: 90_000 }, () => {
  let monitor: MonitorHost;
  let browser: Browser;
  let tmp: string;
  let staticDir: string;
  const servers: RunningServer[] = [];
  const monitors: MonitorHost[] = [];
  const pages: Page[] = [];
  const children: Child[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'pw-layout-'));
    symlinkSync(process.execPath, join(tmp, NAME));
    staticDir = join(tmp, 'renderer');
    cpSync(join(ROOT, 'out', 'renderer'), staticDir, { recursive: true });
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 1000 });
    monitor.start();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await monitor?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const p of pages.splice(0)) await p.context().close();
    await Promise.all(children.splice(0).map((c) => c.stop()));
    for (const s of servers.splice(0)) await s.close();
    for (const m of monitors.splice(0)) await m.stop();
    if (monitor.isPaused()) monitor.resume();
    expect(errors.splice(0)).toEqual([]);
  });

  /** A server of this test's own over `over` (the shared engine unless given), with no baseline file yet. */
  const serve = async (over: MonitorHost = monitor): Promise<RunningServer> => {
    const s = await startServer({ monitor: over, staticDir, port: 0, baselinePath: join(tmp, `baseline-${servers.length}.json`) });
    servers.push(s);
    return s;
  };
  /** A page of its own (its own context), showing live data. */
  const open = async (url: string, width: number, height: number, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width, height }, colorScheme });
    const p = await ctx.newPage();
    pages.push(p);
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(url);
    await p.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 20_000 });
    return p;
  };
  const listener = async (host = '127.0.0.1'): Promise<Child> => {
    const c = await spawnReady(join(tmp, NAME), ['-e', NODE_LISTENER, host]);
    children.push(c);
    return c;
  };
  const seq = (p: Page): Promise<number> => p.evaluate(() => Number(document.querySelector('[data-testid=status-bar]')?.getAttribute('data-seq')));
  const seqAtLeast = (p: Page, n: number): Promise<unknown> =>
    p.waitForFunction((q) => Number(document.querySelector('[data-testid=status-bar]')?.getAttribute('data-seq')) >= q, n, { timeout: 20_000 });

  /** The boxes of the toolbar's visible items, and the toolbar's. */
  const toolbarBoxes = (p: Page): Promise<{ bar: Box; items: Array<Box & { text: string }>; width: number }> =>
    p.evaluate(() => {
      const box = (e: Element): Box => {
        const r = e.getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
      };
      const bar = document.querySelector('header.toolbar') as HTMLElement;
      const items = [...bar.children]
        .filter((e) => (e as HTMLElement).offsetParent !== null && e.getBoundingClientRect().width > 0 && !e.classList.contains('spacer-flex'))
        .map((e) => ({ ...box(e), text: (e.textContent ?? '').trim().slice(0, 20) }));
      return { bar: box(bar), items, width: window.innerWidth };
    });

  const expectOneLine = (t: Awaited<ReturnType<typeof toolbarBoxes>>): void => {
    expect(t.items.length).toBeGreaterThanOrEqual(8);
    const first = t.items[0] as Box;
    for (const it of t.items) {
      // every item on the first item's line (its vertical middle within the first's box) and inside the window
      const mid = (it.top + it.bottom) / 2;
      expect(mid, `${it.text} is on another line`).toBeGreaterThan(first.top);
      expect(mid, `${it.text} is on another line`).toBeLessThan(first.bottom);
      expect(it.right, `${it.text} is past the window's edge`).toBeLessThanOrEqual(t.width);
    }
    expect(t.bar.bottom - t.bar.top).toBeLessThan(2 * (first.bottom - first.top));
  };

  for (const [width, height] of [
    [1024, 700],
    [1440, 900],
  ] as const) {
    it(`at ${width}x${height}: the toolbar is one line, and Pause polling or Freeze view move nothing in it`, async () => {
      const server = await serve();
      const page = await open(server.url, width, height);
      const before = await toolbarBoxes(page);
      expectOneLine(before);

      // Pause polling (and Freeze) change their labels: the toolbar does not reflow
      await page.getByTestId('pause-polling').click();
      await page.locator('[data-testid=pause-polling][aria-pressed=true]').waitFor();
      await page.getByTestId('freeze').click();
      await page.locator('[data-testid=freeze][aria-pressed=true]').waitFor();
      const paused = await toolbarBoxes(page);
      expectOneLine(paused);
      expect(paused.items.map((b) => [b.left, b.right])).toEqual(before.items.map((b) => [b.left, b.right]));
      await page.getByTestId('freeze').click();
      await page.getByTestId('pause-polling').click();
      await page.locator('[data-testid=pause-polling][aria-pressed=false]').waitFor();

      // the rest is one click away, inside the window, and Esc or a click elsewhere puts it away
      await page.getByTestId('more').click();
      const menu = page.getByTestId('more-menu');
      await menu.waitFor();
      const m = (await menu.boundingBox()) as { x: number; width: number };
      expect(m.x + m.width).toBeLessThanOrEqual(width);
      for (const id of ['reverse-dns', 'export-csv', 'export-json']) expect(await page.getByTestId(id).isVisible()).toBe(true);
      await page.keyboard.press('Escape');
      await menu.waitFor({ state: 'hidden' });
      await page.getByTestId('more').click();
      await menu.waitFor();
      await page.getByTestId('status-bar').click();
      await menu.waitFor({ state: 'hidden' });
    });

    it(`at ${width}x${height}: Details sit beside the list and leave PID and Process in view; the badge leaves the name readable`, async () => {
      const child = await listener('0.0.0.0');
      const server = await serve();
      const page = await open(server.url, width, height);
      // our listener's row (no baseline: unexpected, badge shown), then its details beside the list
      await page.getByTestId('search').fill(`proc:${NAME}`);
      const row = page.locator(`[data-testid=socket-row][data-socket-id*="|${child.firstLine}|"]`);
      await row.waitFor({ timeout: 20_000 });
      await row.click();
      await page.getByTestId('details').waitFor();
      const geo = await page.evaluate(
        ([id, nameLength]) => {
          const box = (e: Element | Range | null): Box | null => {
            if (!e) return null;
            const r = e.getBoundingClientRect();
            return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
          };
          const rowEl = document.querySelector(`[data-testid=socket-row][data-socket-id="${String(id)}"]`) as HTMLElement;
          const cell = rowEl.querySelector('.c-process') as HTMLElement;
          // the name's own text (the table wraps it beside the badge): its glyphs' box, not its element's
          const label = cell.querySelector('[data-testid=process-text]');
          const text = label ? [...label.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && (n.textContent ?? '').trim() !== '') : undefined;
          const range = document.createRange();
          // the name itself (what follows it, such as a script, may be cut with an ellipsis)
          if (text) {
            range.setStart(text, 0);
            range.setEnd(text, Math.min(nameLength, (text.textContent ?? '').length));
          }
          return {
            width: window.innerWidth,
            details: box(document.querySelector('[data-testid=details]')),
            headers: ['pid', 'process'].map((c) => box(document.querySelector(`[data-testid=sort-${c}]`))),
            pid: box(rowEl.querySelector('.c-pid')),
            cell: box(cell),
            badge: box(cell.querySelector('.unexpected-badge')),
            name: text ? box(range) : null,
            nameText: text?.textContent ?? null,
          };
        },
        [(await row.getAttribute('data-socket-id')) as string, NAME.length] as const,
      );
      const details = geo.details as Box;
      for (const b of [...geo.headers, geo.pid, geo.cell]) {
        expect(b).not.toBeNull();
        expect((b as Box).left).toBeGreaterThanOrEqual(0);
        expect((b as Box).right).toBeLessThanOrEqual(details.left + 0.5); // beside the panel, not under it
        expect((b as Box).right).toBeLessThanOrEqual(geo.width);
        expect((b as Box).right - (b as Box).left).toBeGreaterThan(20);
      }
      // the badge before the name, never over it; the whole name (fifteen characters) shows in the cell
      // named by its summary: the name first (a node run with -e says so after it)
      expect(geo.nameText?.startsWith(NAME)).toBe(true);
      const name = geo.name as Box;
      const badge = geo.badge as Box;
      expect(badge).not.toBeNull();
      expect(badge.right).toBeLessThanOrEqual(name.left + 0.5);
      expect(name.right).toBeLessThanOrEqual((geo.cell as Box).right);
    });
  }

  it('the Exposure view applies the filter bar and its toggles, counts what it shows, sorts, and has one line a row', async () => {
    const local = await listener('127.0.0.1');
    const wide = await listener('0.0.0.0');
    // both already in the engine's state when the page first looks (else the page sees them open, and says so)
    const inState = (c: Child): boolean => monitor.getSnapshot()?.sockets.some((s) => s.listening && s.localPort === Number(c.firstLine)) ?? false;
    await waitFor(() => (inState(local) && inState(wide) ? true : undefined), 10_000, 'both listeners polled');
    const server = await serve();
    const page = await open(server.url, 1440, 900);
    await page.getByTestId('view-exposure').click();
    await page.getByTestId('search').fill(`proc:${NAME}`);
    const rows = page.locator('[data-testid=exposure-row]');
    const ours = [wide, local].map((c) => `[data-testid=exposure-row][data-socket-id*="|${c.firstLine}|"]`);
    await page.locator(ours[1] as string).waitFor({ timeout: 20_000 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=exposure-row]').length === 2, null, { timeout: 10_000 });
    // "N of all listeners": the machine's listeners come and go with the tests that run beside this one, so the
    // count is read with the total in one look at the page
    const shownOfListening = (n: number): Promise<unknown> =>
      page.waitForFunction(
        (k) => {
          const total = document.querySelector('[data-testid=count-listening]')?.textContent;
          return total !== undefined && document.querySelector('[data-testid=shown-count]')?.textContent === `${k} of ${total}`;
        },
        n,
        { timeout: 10_000 },
      );
    await shownOfListening(2);

    // widest first; sorted by address and back
    const ports = (): Promise<string[]> => rows.evaluateAll((rs) => rs.map((r) => (r.getAttribute('data-socket-id') ?? '').split('|')[2] ?? ''));
    expect(await ports()).toEqual([wide.firstLine, local.firstLine]);
    await page.getByTestId('exposure-sort-local').click();
    expect(await ports()).toEqual([wide.firstLine, local.firstLine]); // 0.0.0.0 < 127.0.0.1
    await page.getByTestId('exposure-sort-local').click();
    expect(await ports()).toEqual([local.firstLine, wide.firstLine]);

    // one line a row: no row is taller than a line of text and its padding
    const heights = await rows.evaluateAll((rs) =>
      rs.map((r) => {
        const td = r.querySelector('td') as HTMLElement;
        const cs = getComputedStyle(td);
        return { h: r.getBoundingClientRect().height, line: parseFloat(cs.lineHeight), pad: parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom) };
      }),
    );
    for (const { h, line, pad } of heights) expect(h).toBeLessThan(2 * line + pad);

    // a toggle narrows it too, and the count follows
    await page.getByTestId('toggle-hideLoopback').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=exposure-row]').length === 1, null, { timeout: 10_000 });
    await page.locator(ours[0] as string).waitFor();
    await shownOfListening(1);
    const row = page.locator(ours[0] as string);

    // opened before this page's first look: it says so, bounded by the process start, and not "open for 0s"
    const since = row.getByTestId('open-since');
    expect(await since.getAttribute('data-basis')).toBe('process');
    expect(await since.textContent()).toMatch(/since process start$/);
    // every cell cut short has its full text as a tooltip
    const cut = await row.evaluate((r) => [...r.querySelectorAll('td')].filter((td) => td.scrollWidth > td.clientWidth && !td.title).map((td) => td.className));
    expect(cut).toEqual([]);

    // details and kill from the row
    await row.getByTestId('exposure-details').click();
    await page.getByTestId('details').waitFor();
    expect(await page.getByTestId('details-cmdline').textContent()).toContain(NAME);
    await row.getByTestId('exposure-kill').click();
    await page.getByTestId('confirm-kill').waitFor();
    expect(await page.getByTestId('confirm-kill').textContent()).toContain(String(wide.pid));
    await page.keyboard.press('Escape');
    await page.getByTestId('confirm-kill').waitFor({ state: 'detached' });
  });

  it('the Refresh menu shows the interval the engine really uses (serve --interval 3000)', async () => {
    const slow = new MonitorHost({ workerPath: WORKER, intervalMs: 3000 });
    monitors.push(slow);
    slow.start();
    const server = await serve(slow);
    const page = await open(server.url, 1024, 700);
    const menu = page.getByTestId('interval');
    await page.waitForFunction(() => (document.querySelector('[data-testid=interval]') as HTMLSelectElement | null)?.value === '3000', null, {
      timeout: 10_000,
    });
    expect(await menu.evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent)).toBe('3 s');
  });

  it('charts: two at a time at 1024 px, leaving the table room; a label for every bar; series that began before the panel opened', async () => {
    // ten processes of ours, each with a socket: at least ten bars
    await Promise.all(Array.from({ length: 10 }, () => listener()));
    const server = await serve();
    const page = await open(server.url, 1024, 700);
    await seqAtLeast(page, (await seq(page)) + 3);
    const opened = await page.evaluate(() => Date.now());
    await page.getByTestId('charts-toggle').click();
    // one row of two charts (two rows of two left the table three rows at 1024x700)
    await page.getByTestId('chart-rates').waitFor();
    const since = await page.evaluate(() => ({
      rates: Number(document.querySelector('[data-testid=chart-rates]')?.getAttribute('data-since')),
      states: Number(document.querySelector('[data-testid=chart-states]')?.getAttribute('data-since')),
      figures: document.querySelectorAll('[data-testid=charts] figure').length,
      panel: document.querySelector('[data-testid=charts]')?.getBoundingClientRect().height ?? 0,
      scroller: document.querySelector('[data-testid=scroller]')?.getBoundingClientRect().height ?? 0,
    }));
    expect(since.figures).toBe(2);
    expect(since.panel).toBeLessThan(260);
    expect(since.scroller).toBeGreaterThan(250);
    // the other pair: the Traffic chart and the processes with the most sockets
    await page.getByTestId('charts-pair-1').click();
    expect(await page.getByTestId('charts-pair-1').getAttribute('aria-selected')).toBe('true');
    await page.getByTestId('chart-traffic').waitFor();
    expect(await page.getByTestId('chart-rates').count()).toBe(0);
    const top = '[data-testid=chart-top]';
    await page.waitForFunction((sel) => document.querySelectorAll(`${sel} .recharts-bar-rectangle`).length >= 10, top, { timeout: 20_000 });
    const chart = await page.evaluate((sel) => {
      const top = document.querySelector(sel) as HTMLElement;
      return {
        bars: top.querySelectorAll('.recharts-bar-rectangle').length,
        // the category axis's labels (all text but the count axis's, at the bottom); recharts leaves out those it finds crowded
        labels: [...top.querySelectorAll('svg text:not([orientation=bottom])')].map((t) => t.textContent ?? '').filter((t) => t.trim() !== ''),
      };
    }, top);
    expect(chart.labels).toHaveLength(chart.bars);
    for (const l of chart.labels) expect(l.length).toBeGreaterThan(0);
    // the series were recorded from start-up, not from the click
    expect(since.rates).toBeGreaterThan(0);
    expect(since.rates).toBeLessThan(opened);
    expect(since.states).toBeLessThan(opened);
    // from 1280 px all four in one row, no tabs
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=charts] figure').length === 4);
    expect(await page.getByTestId('charts-pair-0').count()).toBe(0);
    const tops = await page.evaluate(() => [...document.querySelectorAll('[data-testid=charts] figure')].map((f) => Math.round(f.getBoundingClientRect().top)));
    expect(new Set(tops).size).toBe(1);
  });
});
