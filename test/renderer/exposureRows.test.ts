import { describe, expect, it } from 'vitest';
import { countListeners, listenerRows, openSince, sortListeners } from '../../src/renderer/src/store/exposureRows';
import { RowTracker, type Row } from '../../src/renderer/src/store/rows';
import { cellText, filterRows, NO_TOGGLES, type ViewContext } from '../../src/renderer/src/store/view';
import type { Socket } from '../../src/shared/model';
import { parseQuery } from '../../src/shared/query';
import { makeProcess, makeSocket } from '../helpers/sockets';

const MIN = 60_000;
const row = (s: Socket, over: Partial<Row> = {}): Row => ({ socket: s, change: null, until: 0, firstSeen: 0, seenOpen: true, ...over });
const ctx: ViewContext = { hostName: () => undefined };

describe('"open since" says only what is known', () => {
  it('a listener this window saw open is as old as that', () => {
    const o = openSince(row(makeSocket(), { firstSeen: 10 * MIN }), 13 * MIN);
    expect([o.text, o.basis, o.at]).toEqual(['3m 0s', 'seen', 10 * MIN]);
  });

  it('one already there at the first look is bounded by its process start, and says so (not "3s")', () => {
    const s = makeSocket({ process: makeProcess(7, 'postgres', { startTime: 0 }) });
    const o = openSince(row(s, { firstSeen: 120 * MIN, seenOpen: false }), 120 * MIN + 3000);
    expect([o.text, o.basis, o.at]).toEqual(['2h 0m, since process start', 'process', 0]);
    expect(o.title).toMatch(/^Not seen opening: already listening at Portwatch's first look .*, so open at least 3s\. Its process started at/);
  });

  it('without a process start (or one after the first look: another owner now) it says "at least"', () => {
    const hidden = openSince(row(makeSocket(), { firstSeen: 5 * MIN, seenOpen: false }), 5 * MIN + 3000);
    expect([hidden.text, hidden.basis]).toEqual(['at least 3s', 'before']);
    const later = makeSocket({ process: makeProcess(7, 'svc', { startTime: 6 * MIN }) });
    expect(openSince(row(later, { firstSeen: 5 * MIN, seenOpen: false }), 7 * MIN).basis).toBe('before');
  });

  it('the row tracker marks what the first state held as not seen opening, and what came later as seen', () => {
    const t = new RowTracker(() => 5000);
    t.replace([makeSocket({ id: 'old' })], () => true, 1000);
    t.apply({ seq: 2, takenAt: 5000, added: [makeSocket({ id: 'new' })], removed: [], changed: [makeSocket({ id: 'old', bytesIn: 5 })], closed: [] });
    const byId = Object.fromEntries(t.rows().map((r) => [r.socket.id, r.seenOpen]));
    expect(byId).toEqual({ old: false, new: true }); // a change keeps what was known
  });
});

describe('the Exposure view lists what the filter bar lets through', () => {
  const wide = makeSocket({ id: 'w', localAddress: '0.0.0.0', localPort: 5432, process: makeProcess(2, 'postgres'), pid: 2, pids: [2] });
  const local = makeSocket({ id: 'l', localAddress: '127.0.0.1', localPort: 5173, process: makeProcess(3, 'node'), pid: 3, pids: [3] });
  const client = makeSocket({ id: 'c', listening: false, state: 'ESTABLISHED', remoteAddress: '127.0.0.1', remotePort: 5173, localPort: 40000 });
  const gone = makeSocket({ id: 'g', localPort: 9 });
  const rows = [row(local), row(client), row(wide), row(gone, { change: 'closed' })];

  it('listeners only, still open, widest first, with the dev name before the IANA one', () => {
    const list = listenerRows(rows, () => false);
    expect(list.map((l) => l.row.socket.id)).toEqual(['w', 'l']);
    expect(list.map((l) => l.service?.text)).toEqual(['PostgreSQL', 'Vite dev server']);
    expect(countListeners(rows)).toBe(2);
  });

  it('the same query and toggles as the table narrow it', () => {
    const q = parseQuery('proc:node');
    if (!q.ok) throw new Error(q.message);
    expect(listenerRows(filterRows(rows, NO_TOGGLES, q, ctx), () => null).map((l) => l.row.socket.id)).toEqual(['l']);
    expect(listenerRows(filterRows(rows, { ...NO_TOGGLES, hideLoopback: true }, parseQuery(''), ctx), () => null).map((l) => l.row.socket.id)).toEqual(['w']);
  });

  it('sorts by a column and back; ties keep the report order', () => {
    const list = listenerRows(rows, (s) => s.id === 'w');
    const ids = (col: Parameters<typeof sortListeners>[1], dir: 1 | -1): string[] => sortListeners(list, col, dir, 0).map((l) => l.row.socket.id);
    expect(ids('process', 1)).toEqual(['l', 'w']); // node < postgres
    expect(ids('process', -1)).toEqual(['w', 'l']);
    expect(ids('expected', 1)).toEqual(['l', 'w']); // the unexpected first
    expect(ids('local', 1)).toEqual(['w', 'l']);
    expect(ids('exposure', -1)).toEqual(['l', 'w']);
  });

  it("the table's Service column shows the same name", () => {
    expect(cellText('service', row(makeSocket({ localPort: 3000 })), ctx, 0)).toBe('Dev server (IANA: remoteware-cl)');
  });
});
