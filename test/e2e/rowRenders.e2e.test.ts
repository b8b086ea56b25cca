import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../src/main/engine/monitorHost';
import { startServer, type RunningServer } from '../../src/main/server';
import { launchChromium } from '../helpers/browser';
import { spawnReady, type Child } from '../helpers/children';
import { ROOT, WORKER } from '../helpers/paths';

/** Our processes' name (a symlink to node), of this run only: `proc:NAME` matches nothing else on the machine. */
const NAME = `pw-rr-${randomBytes(4).toString('hex')}`;

/** Node: a listener on 127.0.0.1 and two idle connections to it (both ends here); prints the port once up. */
const IDLE = `
const net = require('net');
const keep = [];
const s = net.createServer((c) => { c.on('error', () => {}); keep.push(c); }).listen(0, '127.0.0.1', () => {
  const port = s.address().port;
  let up = 0;
  for (let i = 0; i < 2; i++) {
    const c = net.connect(port, '127.0.0.1', () => { if (++up === 2) console.log(port); });
    c.on('error', () => {});
    keep.push(c);
  }
});
process.on('SIGTERM', () => { for (const c of keep) c.resetAndDestroy(); setTimeout(() => process.exit(0), 50); });
`;

interface RowRenders {
  /** Renders of the row component, by socket id. */
  renders: Record<string, number>;
  /** Renders whose row, selection and context were the ones of its previous render: work for nothing. */
  wasted: Record<string, number>;
}

declare global {
  interface Window {
    __pwRowRenders?: RowRenders;
  }
}

/**
 * An init script: the hook React DevTools installs (React calls it after every commit, production builds
 * included), here counting each socket row's renders. A row's component is the parent of the element with
 * data-testid=socket-row; it rendered when its props object is a new one (a memo bail-out keeps the old one).
 */
function countRowRenders(): void {
  const counts: RowRenders = { renders: {}, wasted: {} };
  window.__pwRowRenders = counts;
  interface Fiber {
    tag: number;
    child: Fiber | null;
    sibling: Fiber | null;
    return: Fiber | null;
    memoizedProps: Record<string, unknown> | null;
  }
  const last = new Map<string, Record<string, unknown>>();
  const visit = (top: Fiber): void => {
    const stack: Fiber[] = [top];
    while (stack.length > 0) {
      const f = stack.pop() as Fiber;
      if (f.sibling) stack.push(f.sibling);
      const props = f.memoizedProps;
      if (f.tag === 5 && props?.['data-testid'] === 'socket-row' && f.return?.memoizedProps) {
        const id = String(props['data-socket-id']);
        const rowProps = f.return.memoizedProps;
        const before = last.get(id);
        if (before !== rowProps) {
          counts.renders[id] = (counts.renders[id] ?? 0) + 1;
          if (before && before.row === rowProps.row && before.selected === rowProps.selected && before.ctx === rowProps.ctx)
            counts.wasted[id] = (counts.wasted[id] ?? 0) + 1;
          last.set(id, rowProps);
        }
        continue; // nothing to count inside a row
      }
      if (f.child) stack.push(f.child);
    }
  };
  Object.defineProperty(window, '__REACT_DEVTOOLS_GLOBAL_HOOK__', {
    value: {
      supportsFiber: true,
      isDisabled: false,
      renderers: new Map(),
      inject: () => 1,
      onCommitFiberRoot: (_id: number, root: { current: Fiber }) => visit(root.current),
      onCommitFiberUnmount: () => undefined,
      onPostCommitFiberRoot: () => undefined,
      checkDCE: () => undefined,
    },
  });
}

/**
 * What a row costs to keep on screen, in a real Chromium over web mode: a row renders when its own data or
 * selection changes, not when the clock ticks (only its Age cell follows the clock) and not when another row
 * comes or goes. Ten thousand rows scrolled at 60 frames a second leave no time for the rest.
 */
describe('socket rows render only when they change', { timeout: 90_000 }, () => {
  let monitor: MonitorHost;
  let server: RunningServer;
  let browser: Browser;
  let tmp: string;
  let page: Page;
  const children: Child[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'pw-rowrenders-'));
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

  const spawn = async (): Promise<Child> => {
    const child = await spawnReady(join(tmp, NAME), ['-e', IDLE]);
    children.push(child);
    return child;
  };
  const counts = (): Promise<RowRenders> => page.evaluate(() => window.__pwRowRenders as RowRenders);
  /** The rows on screen whose socket id starts with `prefix`, once they show no highlight (their 'new' has ended). */
  const settledRows = async (prefix: string, n: number): Promise<string[]> => {
    await page.waitForFunction(
      ([p, k]) => {
        const rows = [...document.querySelectorAll(`[data-testid=socket-row][data-socket-id^="${p}"]`)];
        return rows.length === k && rows.every((r) => !r.hasAttribute('data-change'));
      },
      [prefix, n] as const,
      { timeout: 30_000 },
    );
    return page.locator(`[data-testid=socket-row][data-socket-id^="${prefix}"]`).evaluateAll((rows) => rows.map((r) => r.getAttribute('data-socket-id') ?? ''));
  };
  /** Waits until the Age cell of the row `id` has shown `ticks` more texts: the clock has moved that often. */
  const waitAgeTicks = async (id: string, ticks: number): Promise<void> => {
    await page.evaluate(
      ([rowId, k]) => {
        const row = [...document.querySelectorAll('[data-testid=socket-row]')].find((r) => r.getAttribute('data-socket-id') === rowId);
        const age = row?.querySelector('.c-age');
        if (!age) throw new Error(`no Age cell for ${rowId}`);
        const seen = [age.textContent];
        (window as unknown as { __pwAges: (string | null)[] }).__pwAges = seen;
        new MutationObserver(() => seen.at(-1) !== age.textContent && seen.push(age.textContent)).observe(age, {
          subtree: true,
          childList: true,
          characterData: true,
        });
        return k;
      },
      [id, ticks] as const,
    );
    await page.waitForFunction((k) => ((window as unknown as { __pwAges: string[] }).__pwAges?.length ?? 0) > k, ticks, { timeout: 30_000 });
  };

  it('a clock tick updates the Age cells without rendering the rows again; a new row leaves the others alone', async () => {
    const first = await spawn();
    const context = await browser.newContext({ viewport: { width: 1400, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript(countRowRenders);
    await page.goto(server.url);
    await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 20_000 });
    await page.getByTestId('search').fill(`proc:${NAME}`);
    // the listener and both ends of two connections, each row as the page shows it once its highlight ended
    const ours = await settledRows('tcp|127.0.0.1|', 5);
    const listener = ours.find((id) => id.startsWith(`tcp|127.0.0.1|${first.firstLine}|*|`));
    expect(listener).toBeDefined();
    const before = await counts();
    for (const id of ours) expect(before.renders[id]).toBeGreaterThanOrEqual(1);

    // three ticks of the clock: the Age text moves, the rows themselves do not render
    await waitAgeTicks(listener as string, 3);
    const ticked = await counts();
    for (const id of ours) {
      expect(ticked.wasted[id] ?? 0, id).toBe(0);
      expect(ticked.renders[id], id).toBe(before.renders[id]);
    }

    // another process of ours arrives: its rows render, the rows already there do not
    const second = await spawn();
    await settledRows(`tcp|127.0.0.1|${second.firstLine}|*|`, 1);
    await settledRows('tcp|127.0.0.1|', 10);
    const after = await counts();
    for (const id of ours) {
      expect(after.wasted[id] ?? 0, id).toBe(0);
      expect(after.renders[id], id).toBe(before.renders[id]);
    }
    const theirs = Object.keys(after.renders).filter((id) => !ours.includes(id) && id.startsWith('tcp|127.0.0.1|'));
    expect(theirs.length).toBeGreaterThanOrEqual(5);
  });
});
