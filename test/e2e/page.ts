import type { Page } from 'playwright-core';

/** What a page noted about one socket row since recordRows: see there. */
export interface RowHistory {
  /** The page's seq (status bar) when the row first appeared. */
  seq: number;
  /** The highlights it showed in turn ('new', 'closed', 'changed', 'none'), then 'gone' once it left the page. */
  changes: string[];
}

declare global {
  interface Window {
    __pwRows?: Record<string, RowHistory>;
    __pwSocketsMade?: number;
  }
}

/**
 * Starts noting, in the page, every highlight each socket row shows, in turn, and when it leaves. A
 * MutationObserver sees each change as the page renders it, so a highlight that lasts a few seconds is seen
 * however late the test looks (waiting for one with a timeout races its expiry). Rows are noted while they
 * are in the page: narrow the list with a search first (it is virtualized).
 */
export async function recordRows(page: Page): Promise<void> {
  await page.evaluate(() => {
    const rows: Record<string, RowHistory> = {};
    window.__pwRows = rows;
    const scan = (): void => {
      const seq = Number(document.querySelector('[data-testid=status-bar]')?.getAttribute('data-seq'));
      const present = new Set<string>();
      for (const el of document.querySelectorAll('[data-testid=socket-row]')) {
        const id = el.getAttribute('data-socket-id') ?? '';
        const change = el.getAttribute('data-change') ?? 'none';
        present.add(id);
        const r = (rows[id] ??= { seq, changes: [] });
        if (r.changes[r.changes.length - 1] !== change) r.changes.push(change);
      }
      for (const [id, r] of Object.entries(rows)) if (!present.has(id) && r.changes[r.changes.length - 1] !== 'gone') r.changes.push('gone');
    };
    new MutationObserver(scan).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-change', 'data-socket-id'] });
    scan();
  });
}

/**
 * The histories of the rows whose socket id starts with `prefix`, by id (see recordRows). Socket ids begin
 * protocol|local address|local port|: `tcp|127.0.0.1|4000|` is that listener and the connections on its port.
 */
export async function rowHistories(page: Page, prefix: string): Promise<Record<string, RowHistory>> {
  return page.evaluate((p) => Object.fromEntries(Object.entries(window.__pwRows ?? {}).filter(([id]) => id.startsWith(p))), prefix);
}

/** Waits until a row whose id starts with `prefix` has shown this highlight (now or before: it may have ended). */
export async function waitRowShowed(page: Page, prefix: string, change: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    ([p, c]) => Object.entries(window.__pwRows ?? {}).some(([id, r]) => id.startsWith(p as string) && r.changes.includes(c as string)),
    [prefix, change],
    { timeout },
  );
}

/** Waits until every row noted whose id starts with `prefix` has left the page (and one was noted). */
export async function waitRowsGone(page: Page, prefix: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    (p) => {
      const mine = Object.entries(window.__pwRows ?? {}).filter(([id]) => id.startsWith(p));
      return mine.length > 0 && mine.every(([, r]) => r.changes[r.changes.length - 1] === 'gone');
    },
    prefix,
    { timeout },
  );
}

/**
 * An init script: counts the WebSockets the page creates (window.__pwSocketsMade). With the page's clock faked,
 * "it stops retrying" becomes a count after hours of page time, not a wait in real time.
 */
export function countWebSockets(): void {
  const Real = window.WebSocket;
  let made = 0;
  class Counted extends Real {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      made++;
    }
  }
  Object.defineProperty(window, '__pwSocketsMade', { get: () => made });
  window.WebSocket = Counted;
}

/** How many WebSockets the page has created (it must have run countWebSockets as an init script). */
export function socketsMade(page: Page): Promise<number> {
  return page.evaluate(() => window.__pwSocketsMade ?? -1);
}
