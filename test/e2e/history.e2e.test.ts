import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/main/engine/history/store';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { formatBytes } from '../../src/shared/model';
import { startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { spawnReady, waitFor, type Child } from '../helpers/children';
import { BIN, ROOT, WORKER } from '../helpers/paths';

/**
 * The History view in Chromium over a history `portwatch record` wrote of real loopback connections: a
 * listener (pw-hist-listener) answers CONNECTIONS clients of pw-hist-client, each open long enough for the
 * polls to see it; the web server then reads that database while the recorder still runs. The view's flows
 * table, its filter, a flow's events and the listener question are checked; screenshots at 1024 and 1440 px,
 * light and dark, go to test-results/ (and PORTWATCH_SHOTS, when set).
 */

const SHOTS = process.env.PORTWATCH_SHOTS ?? join(ROOT, 'test-results');
const CONNECTIONS = 4;
const REQUEST = 2000;
const RESPONSE = 700;

/** Answers RESPONSE bytes to each REQUEST, then closes its end first (so the client's is freed at once). */
const LISTENER = `
const s = require('net').createServer((c) => {
  let got = 0;
  c.on('error', () => {});
  c.on('data', (d) => { got += d.length; if (got >= ${REQUEST}) c.end(Buffer.alloc(${RESPONSE}, 1)); });
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;
/**
 * CONNECTIONS connections one after another. Each, once answered, says `open <its local port>` and stays open
 * (half-open) until a line on stdin: the test lets it close once the history holds its opening, so every one is
 * seen by a poll with its owner however loaded the machine is.
 */
const CLIENT = `
const net = require('net');
const port = Number(process.argv[1]);
const lines = require('readline').createInterface({ input: process.stdin })[Symbol.asyncIterator]();
console.log('ready');
(async () => {
  await lines.next(); // the test listens to what this says from here on
  for (let i = 0; i < ${CONNECTIONS}; i++) {
    await new Promise((resolve) => {
      const c = net.createConnection({ port, host: '127.0.0.1', allowHalfOpen: true });
      c.on('connect', () => c.write(Buffer.alloc(${REQUEST}, 2)));
      c.on('data', () => {});
      c.on('end', async () => {
        console.log('open ' + c.localPort);
        await lines.next();
        c.end();
      });
      c.on('close', resolve);
    });
  }
  console.log('done');
})();
setInterval(() => {}, 1000);
`;

describe('the History view, in Chromium', () => {
  let dir: string;
  let db: string;
  let recorder: ChildProcess;
  let recorderErr = '';
  let monitor: MonitorHost;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let listener: Child;
  let client: Child;
  let port: number;
  const node = realpathSync(process.execPath);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'pw-history-e2e-'));
    db = join(dir, 'state', 'history.db');
    mkdirSync(join(dir, 'state'), { mode: 0o700 });
    symlinkSync(process.execPath, join(dir, 'pw-hist-listener'));
    symlinkSync(process.execPath, join(dir, 'pw-hist-client'));
    recorder = spawn(process.execPath, [BIN, 'record', '--db', db, '--interval', '250'], { stdio: ['ignore', 'pipe', 'pipe'] });
    recorder.stderr?.on('data', (d: Buffer) => (recorderErr += d.toString()));
    await waitFor(() => (/recording to /.test(recorderErr) ? true : undefined), 20_000, 'the recorder to start');

    listener = await spawnReady(join(dir, 'pw-hist-listener'), ['-e', LISTENER]);
    port = Number(listener.firstLine);
    // the listener is in the history before the first client comes
    const read = <T>(f: (s: HistoryStore) => T): T | undefined => {
      const r = HistoryStore.open(db, { mode: 'read' });
      if (!r.ok) return undefined;
      try {
        return f(r.store);
      } finally {
        r.store.close();
      }
    };
    const range = (): { since: number; until: number } => ({ since: Date.now() - 3_600_000, until: Date.now() });
    await waitFor(() => (read((s) => s.listeners(range()).some((l) => l.localPort === port)) ? true : undefined), 20_000, 'the listener recorded');
    client = await spawnReady(join(dir, 'pw-hist-client'), ['-e', CLIENT, String(port)], { stdin: true });
    let said = '';
    client.proc.stdout?.on('data', (d: Buffer) => (said += d.toString()));
    client.proc.stdin?.write('\n');
    const outKey = { program: node, remoteAddress: '127.0.0.1', port, protocol: 'tcp' as const, direction: 'out' as const };
    for (let i = 0; i < CONNECTIONS; i++) {
      const local = await waitFor(() => [...said.matchAll(/^open (\d+)$/gm)][i]?.[1], 20_000, `connection ${i + 1} open`);
      await waitFor(
        () => (read((s) => s.flowEvents(outKey, range(), 100).some((e) => e.kind === 'open' && e.localPort === Number(local))) ? true : undefined),
        40_000,
        `connection ${i + 1} seen open by the recorder`,
      );
      client.proc.stdin?.write('\n');
    }
    const mine = (): string => JSON.stringify(read((s) => s.flows(range()).filter((f) => f.port === port)));
    await waitFor(
      () => (read((s) => s.flows(range()).find((f) => f.port === port && f.direction === 'out' && f.closed === CONNECTIONS)) ? true : undefined),
      40_000,
      'every client connection recorded, closed',
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${mine()}; the recorder said: ${recorderErr}`);
    });

    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 1000 });
    monitor.start();
    server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0, baselinePath: join(dir, 'baseline.json'), historyPath: db });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(server.url);
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 15_000 });
  }, 120_000);

  afterAll(async () => {
    await client?.stop();
    await listener?.stop();
    if (recorder && recorder.exitCode === null) recorder.kill('SIGTERM');
    await browser?.close();
    await server?.close();
    await monitor?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const flowRows = (p: Page) =>
    p.evaluate(() =>
      [...document.querySelectorAll('[data-testid=history-flow]')].map((r) => ({
        program: r.getAttribute('data-program'),
        remote: r.getAttribute('data-remote'),
        port: Number(r.getAttribute('data-port')),
        cells: [...r.querySelectorAll('td')].map((td) => td.textContent ?? ''),
      })),
    );

  it('lists the recorded flows, filters them, shows a flow’s events and answers when a port started listening and who', async () => {
    await page.getByTestId('view-history').click();
    await page.getByTestId('history-view').waitFor();
    await page.waitForFunction((p) => document.querySelector(`[data-testid=history-flow][data-port="${p}"]`) !== null, port, { timeout: 15_000 });
    // the filter bar of the live view gives way to the history's own
    expect(await page.getByTestId('search').count()).toBe(0);
    const out = (await flowRows(page)).find((r) => r.port === port && r.cells[4] === 'out');
    // Program, Remote host, Port, Proto, Dir, Conns, In, Out, First seen, Last seen
    expect(out?.program).toBe(node);
    expect(out?.cells.slice(0, 8)).toEqual([
      'pw-hist-client',
      '127.0.0.1',
      String(port),
      'tcp',
      'out',
      String(CONNECTIONS),
      formatBytes(CONNECTIONS * RESPONSE),
      formatBytes(CONNECTIONS * REQUEST),
    ]);
    expect(await page.getByTestId('history-recording').textContent()).toContain(`Recording now: pid ${recorder.pid} (portwatch record --db ${db}`);
    expect(Number(await page.getByTestId('history-timeline').getAttribute('data-connections'))).toBeGreaterThanOrEqual(CONNECTIONS);

    // the filter language, with the fields a flow keeps
    await page.getByTestId('history-filter').fill(`proc:pw-hist-client :${port}`);
    await page.waitForFunction(
      (p) => {
        const rows = [...document.querySelectorAll('[data-testid=history-flow]')];
        return rows.length === 1 && rows[0]?.getAttribute('data-port') === String(p);
      },
      port,
      { timeout: 10_000 },
    );
    await page.getByTestId('history-filter').fill('pid:1');
    await page.getByTestId('history-filter-error').waitFor();
    expect(await page.getByTestId('history-filter-error').textContent()).toContain('the history keeps no pid per flow');
    await page.getByTestId('history-filter').fill(`:${port} dir:in`);
    // the listener's side of the same connections (and nothing going out)
    await page.waitForFunction(
      (p) => {
        const rows = [...document.querySelectorAll('[data-testid=history-flow]')];
        const cells = rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
        return rows.length > 0 && cells.every((c) => c[4] === 'in' && c[2] === String(p)) && cells.some((c) => c[0] === 'pw-hist-listener');
      },
      port,
      { timeout: 10_000 },
    );
    await page.getByTestId('history-filter').fill(`pw-hist-client`);
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid=history-flow]')];
      return rows.length === 1 && rows[0]?.querySelector('td')?.textContent === 'pw-hist-client';
    });

    // a flow's events: each connection opened, then closed with its bytes and how long it lived
    await page.locator('[data-testid=history-flow]').first().click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=history-event]').length >= 2 * n, CONNECTIONS, { timeout: 10_000 });
    const events = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid=history-event]')].map((e) => ({ kind: e.getAttribute('data-kind'), text: e.textContent ?? '' })),
    );
    expect(events.filter((e) => e.kind === 'open')).toHaveLength(CONNECTIONS);
    const closes = events.filter((e) => e.kind === 'close');
    expect(closes).toHaveLength(CONNECTIONS);
    for (const c of closes) {
      expect(c.text).toMatch(
        new RegExp(`close closed after [0-9.]+ m?s: ${formatBytes(RESPONSE)} in, ${formatBytes(REQUEST)} out — pw-hist-client \\(pid ${client.pid}\\)`),
      );
    }

    // the listener: when it started listening, and who
    await page.getByTestId('history-port').fill(String(port));
    await page.waitForFunction(() => document.querySelector('[data-testid=history-listener-answer]')?.textContent?.includes('started listening'), undefined, {
      timeout: 10_000,
    });
    const answer = await page.getByTestId('history-listener-answer').textContent();
    expect(answer).toMatch(
      new RegExp(
        `^tcp 127\\.0\\.0\\.1:${port} started listening at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d, held by pw-hist-listener \\(pid ${listener.pid}`,
      ),
    );
    expect(answer).toContain('it still listens');
    expect(await page.getByTestId('history-span').count()).toBe(1);
    await page.getByTestId('history-port').fill('70000');
    await page.getByText('A port is a number from 0 to 65535.').waitFor();
    await page.getByTestId('history-port').fill(String(port));
    await page.getByTestId('history-listener-answer').waitFor();

    // a custom range: from and to (local time, to the minute); one before the recording holds nothing
    const local = (at: number): string => {
      const d = new Date(at);
      const p = (n: number): string => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    };
    await page.getByTestId('history-filter').fill(`:${port}`);
    await page.getByTestId('history-range-custom').click();
    await page.getByTestId('history-from').fill(local(Date.now() - 3 * 3_600_000));
    await page.getByTestId('history-to').fill(local(Date.now() - 2 * 3_600_000));
    await page.getByTestId('history-flows-empty').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('history-flows-empty').textContent()).toBe('No flow in this range matches the filter.');
    await page.getByTestId('history-to').fill(local(Date.now() - 4 * 3_600_000));
    expect(await page.getByTestId('history-range-error').textContent()).toBe('From is after To.');
    await page.getByTestId('history-to').fill('');
    await page.waitForFunction((p) => document.querySelector(`[data-testid=history-flow][data-port="${p}"]`) !== null, port, { timeout: 10_000 });
    await page.getByTestId('history-range-hour').click();

    // sorted by a column: bytes out, largest first, then reversed
    await page.getByTestId('history-filter').fill('');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=history-flow]').length >= 2);
    await page.getByTestId('history-sort-bytesOut').click();
    expect(await page.locator('th.h-bytesOut').getAttribute('aria-sort')).toBe('descending');
    await page.getByTestId('history-sort-bytesOut').click();
    expect(await page.locator('th.h-bytesOut').getAttribute('aria-sort')).toBe('ascending');

    for (const width of [1024, 1440]) {
      for (const scheme of ['light', 'dark'] as const) {
        await page.setViewportSize({ width, height: width === 1024 ? 720 : 900 });
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: join(SHOTS, `history-${width}-${scheme}.png`) });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    // the toolbar still fits one line at 1024 px with the third tab
    await page.setViewportSize({ width: 1024, height: 720 });
    const toolbar = await page.getByTestId('toolbar').boundingBox();
    expect(toolbar?.height).toBeLessThan(50);
  }, 120_000);

  it('says what to do when there is no history yet', async () => {
    const missing = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0, historyPath: join(dir, 'none', 'history.db') });
    const other = await browser.newPage({ viewport: { width: 1024, height: 720 } });
    try {
      await other.goto(missing.url);
      await other.getByTestId('view-history').click();
      await other.getByTestId('history-empty').waitFor({ timeout: 10_000 });
      expect(await other.getByTestId('history-empty').getAttribute('data-code')).toBe('no-history');
      expect(await other.getByTestId('history-empty').textContent()).toContain('No history yet at');
      expect(await other.getByTestId('history-empty').textContent()).toContain('run portwatch record, or turn recording on');
      await other.screenshot({ path: join(SHOTS, 'history-empty-1024.png') });
    } finally {
      await other.close();
      await missing.close();
    }
  }, 60_000);
});
