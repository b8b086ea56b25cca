import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { CLONE_NEWNET, libc, O_CLOEXEC, O_RDONLY } from '../../src/main/engine/native/libc';
import { startServer, type RunningServer } from '../../src/main/server';
import { whyNoUdpCounters } from '../../src/shared/traffic';
import { launchChromium } from '../helpers/browser';
import { spawnReady, type Child } from '../helpers/children';
import { canNetns, Netns } from '../helpers/netns';
import { ROOT, WORKER } from '../helpers/paths';
import { MOVER, readAcct } from '../helpers/traffic';

/*
 * A file of its own: this thread enters a network namespace for the block, and what the process sets up once per
 * namespace (the web server's netlink socket for peer checks) must be made in it, not left over from other tests.
 */

const NAME = `pw-trn-${randomBytes(4).toString('hex')}`;

/**
 * The offer confirmed, end to end: the engine, the server, Chromium and the traffic all run in a network namespace
 * the test creates (the switch is per namespace), entered by this thread for the block and left after it; threads
 * and processes started meanwhile (the monitor's worker, Chromium, the children) stay in it.
 */
describe.runIf(canNetns)('the conntrack offer confirmed, in a network namespace of its own', { timeout: 120_000 }, () => {
  const ns = Netns.unique('pw-trf-');
  let home = -1;
  let hostBefore: string | null = null;
  let monitor: MonitorHost | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let tmp = '';
  const children: Child[] = [];

  beforeAll(async () => {
    hostBefore = readAcct();
    ns.create();
    const c = libc();
    home = c.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC);
    const target = c.open(ns.path, O_RDONLY | O_CLOEXEC);
    const entered = c.setns(target, CLONE_NEWNET);
    c.close(target);
    if (home < 0 || entered < 0) throw new Error(`cannot enter ${ns.path}: errno ${c.errno()}`);
    tmp = mkdtempSync(join(tmpdir(), 'pw-traffic-ns-'));
    symlinkSync(process.execPath, join(tmp, NAME));
    const staticDir = join(tmp, 'renderer');
    cpSync(join(ROOT, 'out', 'renderer'), staticDir, { recursive: true });
    monitor = new MonitorHost({ workerPath: WORKER, intervalMs: 500 });
    monitor.start();
    server = await startServer({ monitor, staticDir, port: 0, baselinePath: join(tmp, 'config', 'baseline.json') });
    browser = await launchChromium();
    children.push(await spawnReady(join(tmp, NAME), ['-e', MOVER, '4096']));
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await browser?.close();
    await server?.close();
    await monitor?.stop();
    if (home >= 0) {
      libc().setns(home, CLONE_NEWNET);
      libc().close(home);
    }
    ns.remove();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    // the machine's own switch is as it was
    expect(readAcct()).toBe(hostBefore);
  });

  it('as root with accounting off: confirmed, it turns on in this namespace only, and the status and cells say so', async () => {
    expect(readAcct()).toBe('0');
    const context = await (browser as Browser).newContext({ viewport: { width: 1440, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto((server as RunningServer).url);
    const note = page.getByTestId('udp-counters');
    await page.locator('[data-testid=udp-counters][data-state=acct-off]').waitFor({ timeout: 30_000 });
    await page.getByTestId('conntrack-offer').click();
    await page.getByTestId('conntrack-confirm').click();
    await page.getByTestId('conntrack-dialog').waitFor({ state: 'detached' });
    // written at once; the engine reads it again within a few polls, and the status says where UDP counts come from
    expect(readAcct()).toBe('1');
    await page.locator('[data-testid=udp-counters][data-state=conntrack]').waitFor({ timeout: 30_000 });
    expect(await note.textContent()).toBe('UDP counted by conntrack');
    expect(await page.getByTestId('conntrack-offer').count()).toBe(0);
    // a UDP flow conntrack does not track (nothing in this namespace asks it to) is n/a for that reason, never 0
    await page.getByTestId('search').fill(`proc:${NAME}`);
    const udp = page.locator(`[data-testid=socket-row][data-socket-id^="udp|127.0.0.1|${children[0]?.firstLine.split(' ')[1]}|"]`);
    await udp.waitFor({ timeout: 30_000 });
    const cell = udp.locator('.c-rateIn');
    const text = await cell.textContent();
    if (text === 'n/a') expect(await cell.getAttribute('title')).toBe(`n/a: ${whyNoUdpCounters('conntrack')}`);
    else expect(text).toMatch(/(\/s|…)$/);
    await context.close();
    expect(errors).toEqual([]);
  });
});
