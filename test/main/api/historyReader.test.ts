import Database from 'libsql';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineApi } from '../../../src/main/api/engineApi';
import { HistoryReader } from '../../../src/main/api/historyReader';
import { HistoryThread } from '../../../src/main/api/historyThread';
import { Monitor } from '../../../src/main/engine/monitor';
import { HistoryStore, type OpenResult } from '../../../src/main/engine/history/store';
import { HistoryTracker, HOUR_MS, type FlowIncrement } from '../../../src/main/engine/history/tracker';
import type { ApiResult } from '../../../src/shared/api';
import { MAX_HISTORY_FLOWS, type FlowKey } from '../../../src/shared/history';
import type { ClosedConnection, Delta, Socket } from '../../../src/shared/model';
import { makeProcess, makeSocket } from '../../helpers/sockets';

/**
 * The History view's reader over a real libsql file in a temporary directory, written as `record` writes it (a
 * HistoryTracker's batches into a HistoryStore opened for writing): flows with the filter language, a flow's
 * events, the listener timeline, the timeline's buckets, the bounds, and every failure as a value.
 */

let dir: string;
let db: string;
let readers: HistoryReader[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-hreader-'));
  db = join(dir, 'history.db');
});
afterEach(() => {
  for (const r of readers) r.dispose();
  readers = [];
  rmSync(dir, { recursive: true, force: true });
});

function reader(path = db, names?: Record<string, string>): HistoryReader {
  const r = new HistoryReader(path, names && (() => names));
  readers.push(r);
  return r;
}
function value<T>(r: ApiResult<T>): T {
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r.value;
}
function opened(r: OpenResult): HistoryStore {
  if (!r.ok) throw new Error(r.message);
  return r.store;
}

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const curl = makeProcess(4242, 'curl', { exe: '/usr/bin/curl' });
const wget = makeProcess(4343, 'wget', { exe: '/usr/bin/wget' });
const nginx = makeProcess(80, 'nginx', { exe: '/usr/sbin/nginx' });
const RANGE = { since: T0 - HOUR_MS, until: T0 + HOUR_MS };

function conn(port: number, p: typeof curl, bytesIn: number, bytesOut: number, remote = '93.184.216.34'): Socket {
  return makeSocket({
    id: `tcp|10.0.0.2|${port}|${remote}|443`,
    localAddress: '10.0.0.2',
    localPort: port,
    remoteAddress: remote,
    remotePort: 443,
    state: 'ESTABLISHED',
    listening: false,
    pid: p.pid,
    pids: [p.pid],
    process: p,
    bytesIn,
    bytesOut,
    direction: 'out',
  });
}
const listener = (port: number, p = nginx): Socket =>
  makeSocket({
    id: `tcp|0.0.0.0|${port}|*|*`,
    localAddress: '0.0.0.0',
    localPort: port,
    state: 'LISTEN',
    listening: true,
    pid: p.pid,
    pids: [p.pid],
    process: p,
  });
const delta = (seq: number, takenAt: number, over: Partial<Delta>): Delta => ({ seq, takenAt, added: [], removed: [], changed: [], closed: [], ...over });
function closedRecord(s: Socket, bytesIn: number, bytesOut: number, at: number): ClosedConnection {
  return {
    id: s.id,
    protocol: 'tcp',
    family: 4,
    localAddress: s.localAddress,
    localPort: s.localPort,
    remoteAddress: s.remoteAddress as string,
    remotePort: s.remotePort as number,
    state: 'CLOSE',
    pid: s.pid,
    name: s.process?.name ?? null,
    uid: 0,
    bytesIn,
    bytesOut,
    firstSeen: null,
    closedAt: at,
    netns: null,
  };
}

/**
 * A recording: nginx listens on 8080 from T0; curl opens a connection at T0+1s, moves 5,000/300 bytes, hands
 * it to wget (an owner change) and it closes at T0+10s with 9,000/600; a second curl connection, to another
 * host, lives between two polls at T0+20s. Left open for writing (the recorder's lock held) when `keep`.
 */
function record(keep = false): HistoryStore {
  const store = opened(HistoryStore.open(db, { mode: 'write', command: 'portwatch record (test)' }));
  const t = new HistoryTracker();
  const a = conn(40001, curl, 0, 0);
  store.write(t.snapshot({ seq: 1, takenAt: T0, source: 'netlink', sockets: [listener(8080)] }, store.openListenerKeys()));
  store.write(t.delta(delta(2, T0 + 1000, { added: [a] })));
  store.write(t.delta(delta(3, T0 + 2000, { changed: [{ ...a, bytesIn: 5000, bytesOut: 300 }] })));
  store.write(t.delta(delta(4, T0 + 3000, { changed: [{ ...a, bytesIn: 5000, bytesOut: 300, pid: wget.pid, pids: [wget.pid], process: wget }] })));
  store.write(t.delta(delta(5, T0 + 10_000, { removed: [a.id], closed: [closedRecord(a, 9000, 600, T0 + 10_000)] })));
  const b = conn(40002, curl, 0, 0, '1.1.1.1');
  store.write(t.delta(delta(6, T0 + 20_000, { closed: [closedRecord(b, 70, 30, T0 + 20_000)] })));
  store.write(t.delta(delta(7, T0 + 30_000, { removed: [listener(8080).id] })));
  store.write(t.delta(delta(8, T0 + 40_000, { added: [listener(8080, wget)] })));
  if (keep) return store;
  store.close();
  return store;
}

const curlKey: FlowKey = { program: '/usr/bin/curl', remoteAddress: '93.184.216.34', port: 443, protocol: 'tcp', direction: 'out' };

describe('HistoryReader', () => {
  it('says there is no history yet, and what to do, when the file does not exist; and creates nothing', () => {
    const r = reader().flows(RANGE, '');
    expect(r).toMatchObject({ ok: false, code: 'no-history' });
    if (!r.ok) expect(r.message).toBe(`No history yet at ${db}: run portwatch record, or turn recording on.`);
    expect(reader(join(dir, 'nowhere', 'history.db')).listeners(RANGE, null)).toMatchObject({ ok: false, code: 'no-history' });
    expect(reader(join(dir, 'nowhere', 'history.db')).contacts()).toMatchObject({ ok: false, code: 'no-history' });
    expect(() => readFileSync(db)).toThrow();
  });

  it('reports a corrupt file, and a newer one, in their words, and leaves each byte for byte as it was', () => {
    writeFileSync(db, Buffer.alloc(8192, 0x5a));
    const before = readFileSync(db);
    const r = reader().timeline(RANGE, 60);
    expect(r).toMatchObject({ ok: false, code: 'history-unreadable' });
    if (!r.ok) expect(r.message).toMatch(/is not a readable history database \(corrupt, or not SQLite\); it is left as it is/);
    expect(readFileSync(db).equals(before)).toBe(true);

    rmSync(db);
    record();
    // a newer Portwatch's schema: the reader refuses it, changing nothing
    const bump = new Database(db);
    bump.exec('PRAGMA user_version = 99');
    bump.close();
    const newer = readFileSync(db);
    const n = reader().flows(RANGE, '');
    expect(n).toMatchObject({ ok: false, code: 'history-unreadable' });
    if (!n.ok) expect(n.message).toMatch(/written by a newer Portwatch \(schema 99/);
    expect(readFileSync(db).equals(newer)).toBe(true);
  });

  it('answers flows busiest first, filtered by the filter language, and refuses a field the history does not keep', () => {
    record();
    const r = reader();
    const all = value(r.flows(RANGE, ''));
    expect(all.db).toBe(db);
    expect(all.truncated).toBe(false);
    expect(all.recording).toBeNull();
    expect(all.flows.map((f) => [f.program, f.remoteAddress, f.port, f.opened, f.closed, f.bytesIn, f.bytesOut])).toEqual([
      // the owner changed mid-way: its bytes after the change count for wget's flow
      ['/usr/bin/curl', '93.184.216.34', 443, 1, 0, 5000, 300],
      ['/usr/bin/wget', '93.184.216.34', 443, 0, 1, 4000, 300],
      ['/usr/bin/curl', '1.1.1.1', 443, 1, 1, 70, 30],
    ]);
    expect(value(r.flows(RANGE, 'host:1.1.1.1')).flows.map((f) => f.remoteAddress)).toEqual(['1.1.1.1']);
    expect(value(r.flows(RANGE, 'proc:wget')).flows.map((f) => f.program)).toEqual(['/usr/bin/wget']);
    expect(value(r.flows(RANGE, '-proc:wget :443 dir:out')).matched).toBe(2);
    expect(value(r.flows({ since: T0 + 2 * HOUR_MS, until: T0 + 3 * HOUR_MS }, '')).flows).toEqual([]);
    // the names reverse DNS found: host: and free text find them, as in the live view
    const named = reader(db, { '1.1.1.1': 'one.one.one.one' });
    expect(value(named.flows(RANGE, 'host:one.one')).flows.map((f) => f.remoteAddress)).toEqual(['1.1.1.1']);
    expect(value(named.flows(RANGE, 'one.one.one')).flows.map((f) => f.remoteAddress)).toEqual(['1.1.1.1']);
    expect(value(r.flows(RANGE, 'host:one.one')).flows).toEqual([]);

    const pid = r.flows(RANGE, 'pid:1');
    expect(pid).toMatchObject({ ok: false, code: 'bad-query' });
    if (!pid.ok) expect(pid.message).toMatch(/^the history keeps no pid per flow; it filters on free text, proc, port/);
    const syntax = r.flows(RANGE, 'curl or');
    expect(syntax).toMatchObject({ ok: false, code: 'bad-query' });
    if (!syntax.ok) expect(syntax.message).toMatch(/\(at character 8\)$/);
  });

  it("answers one flow's events: opened, owner changed and closed with its final bytes and duration", () => {
    record();
    const r = reader();
    const curlEvents = value(r.events(curlKey, RANGE));
    expect(curlEvents.truncated).toBe(false);
    expect(curlEvents.events.map((e) => [e.at - T0, e.kind, e.pid, e.name])).toEqual([[1000, 'open', curl.pid, 'curl']]);
    const wgetEvents = value(r.events({ ...curlKey, program: '/usr/bin/wget' }, RANGE)).events;
    expect(wgetEvents.map((e) => [e.at - T0, e.kind, e.pid, e.note, e.bytesIn, e.bytesOut, e.durationMs])).toEqual([
      [3000, 'owner', wget.pid, String(curl.pid), 5000, 300, null],
      [10_000, 'close', wget.pid, null, 9000, 600, 9000],
    ]);
    const between = value(r.events({ ...curlKey, remoteAddress: '1.1.1.1' }, RANGE)).events;
    expect(between.map((e) => [e.kind, e.note, e.bytesIn, e.bytesOut])).toEqual([['close', 'between-polls', 70, 30]]);
    // another port, direction or protocol is another flow
    expect(value(r.events({ ...curlKey, port: 80 }, RANGE)).events).toEqual([]);
    expect(value(r.events({ ...curlKey, direction: 'in' }, RANGE)).events).toEqual([]);
    expect(value(r.events({ ...curlKey, protocol: 'udp' }, RANGE)).events).toEqual([]);
  });

  it('answers when a port started listening and who, for one port or all, and names the recorder that holds the lock', () => {
    const writer = record(true);
    try {
      const r = reader();
      const spans = value(r.listeners(RANGE, 8080));
      expect(spans.listeners.map((l) => [l.localPort, l.name, l.pid, l.startedAt - T0, l.stoppedAt === null ? null : l.stoppedAt - T0])).toEqual([
        [8080, 'nginx', nginx.pid, 0, 30_000],
        [8080, 'wget', wget.pid, 40_000, null],
      ]);
      expect(value(r.listeners(RANGE, 9999)).listeners).toEqual([]);
      expect(value(r.listeners(RANGE, null)).listeners).toHaveLength(2);
      expect(spans.recording?.holder).toMatch(new RegExp(`^pid ${process.pid} \\(portwatch record \\(test\\)\\), since `));
    } finally {
      writer.close();
    }
    expect(value(reader().listeners(RANGE, null)).recording).toBeNull();
  });

  it('cuts the timeline into buckets, every one present: minutes from the events, hours from the flows', () => {
    record();
    const r = reader();
    const hour = value(r.timeline({ since: T0, until: T0 + HOUR_MS - 1 }, 60));
    expect(hour.source).toBe('events');
    expect(hour.bucketMs).toBe(60_000);
    expect(hour.points).toHaveLength(60);
    expect(hour.points[0]).toEqual({ at: T0, connections: 2, bytesIn: 9070, bytesOut: 630 });
    expect(hour.points.slice(1).every((p) => p.connections === 0 && p.bytesIn === 0)).toBe(true);

    const day = value(r.timeline({ since: T0 - 12 * HOUR_MS, until: T0 + 12 * HOUR_MS - 1 }, 24));
    expect(day.source).toBe('flows');
    expect(day.bucketMs).toBe(HOUR_MS);
    expect(day.points).toHaveLength(24);
    expect(day.points.find((p) => p.at === T0)).toEqual({ at: T0, connections: 2, bytesIn: 9070, bytesOut: 630 });
    expect(day.points.filter((p) => p.connections > 0)).toHaveLength(1);
  });

  it('falls back to hours when the events of a short range are gone but its flows are kept', () => {
    const store = opened(HistoryStore.open(db, { mode: 'write' }));
    const flow: FlowIncrement = { ...curlKey, hour: T0, name: 'curl', opened: 3, closed: 3, bytesIn: 10, bytesOut: 20, firstSeen: T0, lastSeen: T0 + 5 };
    store.write({ events: [], flows: [flow] });
    store.close();
    const t = value(reader().timeline({ since: T0, until: T0 + 30 * 60_000 }, 30));
    expect(t.source).toBe('flows');
    expect(t.points).toEqual([{ at: T0, connections: 3, bytesIn: 10, bytesOut: 20 }]);
  });

  it('bounds the flows it answers, and says it did', () => {
    const store = opened(HistoryStore.open(db, { mode: 'write' }));
    const flows: FlowIncrement[] = Array.from({ length: MAX_HISTORY_FLOWS + 7 }, (_, i) => ({
      ...curlKey,
      remoteAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      hour: T0,
      name: 'curl',
      opened: 1,
      closed: 1,
      bytesIn: i,
      bytesOut: 0,
      firstSeen: T0,
      lastSeen: T0,
    }));
    store.write({ events: [], flows });
    store.close();
    const r = value(reader().flows(RANGE, ''));
    expect(r.truncated).toBe(true);
    expect(r.matched).toBe(MAX_HISTORY_FLOWS + 7);
    expect(r.flows).toHaveLength(MAX_HISTORY_FLOWS);
    expect(r.flows[0]?.bytesIn).toBe(MAX_HISTORY_FLOWS + 6); // the busiest
  });

  it('follows the file when a writer puts another in its place, and answers again after it was missing', () => {
    const r = reader();
    expect(r.flows(RANGE, '')).toMatchObject({ ok: false, code: 'no-history' });
    record();
    expect(value(r.flows(RANGE, '')).flows).toHaveLength(3);
    // a writer moved it aside (corrupt) and began a new, empty one
    copyFileSync(db, `${db}.old`);
    renameSync(db, join(dir, 'aside.db'));
    opened(HistoryStore.open(db, { mode: 'write' })).close();
    expect(value(r.flows(RANGE, '')).flows).toEqual([]);
  });
});

describe('HistoryThread: the reads in a thread of their own', () => {
  it('answers as the reader does, starts again after its thread died, and answers disconnected once disposed', async () => {
    record();
    const t = new HistoryThread(db, () => ({ '1.1.1.1': 'one.one.one.one' }));
    try {
      expect(value(await t.flows(RANGE, 'host:one.one')).flows.map((f) => f.remoteAddress)).toEqual(['1.1.1.1']);
      expect(value(await t.listeners(RANGE, 8080)).listeners).toHaveLength(2);
      expect(value(await t.events(curlKey, RANGE)).events.map((e) => e.kind)).toEqual(['open']);
      expect(value(await t.timeline(RANGE, 24)).points).toHaveLength(25);
      // what each program contacted going out, for first contacts beside another recorder
      const c = value(await t.contacts());
      expect(c.truncated).toBe(false);
      expect(c.keys.length).toBe(new Set(c.keys).size);
      expect(c.keys).toHaveLength(3);
      expect(c.since).toBeGreaterThanOrEqual(T0 - HOUR_MS);
      // its thread gone: the next question starts a new one
      await (t as unknown as { worker: { terminate(): Promise<number> } | null }).worker?.terminate();
      expect(value(await t.flows(RANGE, '')).flows).toHaveLength(3);
    } finally {
      t.dispose();
    }
    expect(await t.flows(RANGE, '')).toMatchObject({ ok: false, code: 'disconnected' });
  });

  it('ends its thread by asking it to close its database, never by terminating it with the database open', async () => {
    // terminated with a libsql connection open, the thread's finalizers abort the whole process (a neon panic)
    record();
    const t = new HistoryThread(db, () => ({}));
    expect(await new HistoryThread(db, () => ({})).dispose()).toBe('none');
    expect(value(await t.listeners(RANGE, null)).listeners.length).toBeGreaterThan(0);
    const asked = t.flows(RANGE, '');
    expect(await t.dispose()).toBe('closed');
    expect(await asked).toMatchObject({ ok: false, code: 'disconnected' });
  });

  it('gives up a question not answered in time, and one its thread died with, each with a value', async () => {
    record();
    // a thread that never answers
    const silent = join(dir, 'silent.cjs');
    writeFileSync(silent, "require('node:worker_threads').parentPort.on('message', () => {});\n");
    const t = new HistoryThread(db, () => ({}), silent, 200);
    try {
      expect(await t.listeners(RANGE, null)).toMatchObject({
        ok: false,
        code: 'history-unreadable',
        message: expect.stringMatching(/did not answer within 0 s/),
      });
    } finally {
      t.dispose();
    }
    // and a thread that dies with a question open: that question is answered with why
    const dying = new HistoryThread(db, () => ({}), silent);
    try {
      const asked = dying.flows(RANGE, '');
      await (dying as unknown as { worker: { terminate(): Promise<number> } | null }).worker?.terminate();
      expect(await asked).toMatchObject({
        ok: false,
        code: 'history-unreadable',
        message: expect.stringMatching(/^the history reader stopped \(exit code \d+\)$/),
      });
    } finally {
      dying.dispose();
    }
  });
});

describe('the history methods through the API', () => {
  let monitor: Monitor;
  let api: EngineApi;
  beforeEach(async () => {
    monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [], warnings: [] }) }, intervalMs: 1000 });
    await monitor.pollOnce();
    api = new EngineApi(monitor, { historyPath: db });
  });
  afterEach(async () => {
    api.dispose();
    await monitor.stop();
  });

  it('reads the database it was given', async () => {
    record();
    const r = await api.call('historyFlows', [RANGE, 'proc:curl']);
    expect(r.ok && (r.value as { flows: unknown[] }).flows).toHaveLength(2);
    expect(await api.call('historyEvents', [curlKey, RANGE])).toMatchObject({ ok: true, value: { events: [{ kind: 'open' }] } });
    expect(await api.call('historyListeners', [RANGE, 8080])).toMatchObject({ ok: true, value: { listeners: [{ name: 'nginx' }, { name: 'wget' }] } });
    expect(await api.call('historyTimeline', [RANGE, 24])).toMatchObject({ ok: true, value: { source: 'events' } });
  });

  it.each([
    ['since after until', 'historyFlows', [{ since: T0 + 1, until: T0 }, ''], /since is after until/],
    ['a range wider than 400 days', 'historyTimeline', [{ since: 0, until: 401 * 86_400_000 }, 10], /wider than 400 days/],
    ['a range with another field', 'historyListeners', [{ since: 0, until: 1, x: 1 }, null], /x/],
    ['a negative time', 'historyFlows', [{ since: -5, until: 1 }, ''], /since/],
    ['a fractional time', 'historyFlows', [{ since: 0.5, until: 1 }, ''], /since/],
    ['a query of more than 2,000 characters', 'historyFlows', [RANGE, 'a'.repeat(2001)], /2000/],
    ['no buckets', 'historyTimeline', [RANGE, 0], /1/],
    ['too many buckets', 'historyTimeline', [RANGE, 501], /500/],
    ['a port out of range', 'historyListeners', [RANGE, 65536], /65535/],
    ['a flow of an unknown protocol', 'historyEvents', [{ ...curlKey, protocol: 'sctp' }, RANGE], /protocol/],
    ['a flow of no direction', 'historyEvents', [{ ...curlKey, direction: 'both' }, RANGE], /direction/],
    ['a flow without a remote host', 'historyEvents', [{ ...curlKey, remoteAddress: '' }, RANGE], /remoteAddress/],
  ])('refuses %s as a bad request, naming what is wrong', async (_what, method, args, message) => {
    record();
    const r = await api.call(method, args);
    expect(r).toMatchObject({ ok: false, code: 'bad-request' });
    if (!r.ok) expect(r.message).toMatch(message);
  });
});
