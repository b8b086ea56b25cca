import Database from 'libsql';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Emitter } from '../../../src/main/engine/events';
import { HistoryLock } from '../../../src/main/engine/history/lock';
import { HistoryRecorder } from '../../../src/main/engine/history/recorder';
import type { MonitorEvents } from '../../../src/main/engine/monitor';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src/main/engine/history/schema';
import { DAY_MS, HistoryStore, type OpenResult } from '../../../src/main/engine/history/store';
import { HistoryTracker, HOUR_MS, type HistoryBatch, type HistoryEvent } from '../../../src/main/engine/history/tracker';
import type { ClosedConnection } from '../../../src/shared/model';
import { makeProcess, makeSocket } from '../../helpers/sockets';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-history-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function opened(r: OpenResult): HistoryStore {
  if (!r.ok) throw new Error(r.message);
  return r.store;
}

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const curl = makeProcess(4242, 'curl', { exe: '/usr/bin/curl' });
const nginx = makeProcess(80, 'nginx', { exe: '/usr/sbin/nginx' });

function conn(port: number, bytesIn: number, bytesOut: number) {
  return makeSocket({
    id: `tcp|10.0.0.2|${port}|93.184.216.34|443`,
    localAddress: '10.0.0.2',
    localPort: port,
    remoteAddress: '93.184.216.34',
    remotePort: 443,
    state: 'ESTABLISHED',
    listening: false,
    pid: curl.pid,
    pids: [curl.pid],
    process: curl,
    bytesIn,
    bytesOut,
    direction: 'out',
  });
}
const listener = makeSocket({
  id: 'tcp|0.0.0.0|8080|*|*',
  localAddress: '0.0.0.0',
  localPort: 8080,
  state: 'LISTEN',
  listening: true,
  pid: nginx.pid,
  pids: [nginx.pid],
  process: nginx,
});

function closedRecord(port: number, bytesIn: number, bytesOut: number, at: number): ClosedConnection {
  return {
    id: `tcp|10.0.0.2|${port}|93.184.216.34|443`,
    protocol: 'tcp',
    family: 4,
    localAddress: '10.0.0.2',
    localPort: port,
    remoteAddress: '93.184.216.34',
    remotePort: 443,
    state: 'CLOSE',
    pid: curl.pid,
    name: 'curl',
    uid: 0,
    bytesIn,
    bytesOut,
    firstSeen: null,
    closedAt: at,
    netns: null,
  };
}

const delta = (
  seq: number,
  takenAt: number,
  over: Partial<{ added: ReturnType<typeof conn>[]; removed: string[]; changed: ReturnType<typeof conn>[]; closed: ClosedConnection[] }>,
) => ({
  seq,
  takenAt,
  added: [],
  removed: [],
  changed: [],
  closed: [],
  ...over,
});

function event(at: number, over: Partial<HistoryEvent> = {}): HistoryEvent {
  return {
    at,
    kind: 'open',
    socketId: `tcp|10.0.0.2|${at % 60000}|1.1.1.1|443`,
    protocol: 'tcp',
    family: 4,
    localAddress: '10.0.0.2',
    localPort: 40000,
    remoteAddress: '1.1.1.1',
    remotePort: 443,
    direction: 'out',
    pid: 1,
    name: 'curl',
    exe: '/usr/bin/curl',
    user: 'root',
    uid: 0,
    bytesIn: 100,
    bytesOut: 100,
    durationMs: null,
    netns: null,
    note: 'x'.repeat(200),
    ...over,
  };
}

describe('HistoryStore: schema', () => {
  it('creates the current version in WAL mode, keeps what it wrote across a reopen, and refuses a newer schema without touching it', () => {
    const path = join(dir, 'h.db');
    const store = opened(HistoryStore.open(path, { mode: 'write', command: 'test' }));
    store.write({ events: [event(T0)], flows: [] });
    store.close();
    const raw = new Database(path);
    expect((raw.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(SCHEMA_VERSION);
    expect((raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
    raw.close();
    const again = opened(HistoryStore.open(path, { mode: 'read' }));
    expect(again.counts().events).toBe(1);
    again.close();
    const bump = new Database(path);
    bump.exec('PRAGMA user_version = 99');
    bump.close();
    const before = readFileSync(path);
    const r = HistoryStore.open(path, { mode: 'write' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(new RegExp(`newer Portwatch \\(schema 99; this one knows ${SCHEMA_VERSION}\\)`));
    expect(readFileSync(path).equals(before)).toBe(true);
    // the refusal released the lock
    expect(HistoryLock.holder(`${path}.lock`)).toBeNull();
  });

  it('what each program contacted, for first-contact alerts: from a migrated version 1 database, by an index alone', () => {
    const path = join(dir, 'v1.db');
    const raw = new Database(path);
    raw.exec('PRAGMA journal_mode = WAL');
    raw.exec(MIGRATIONS[0] as string);
    raw.exec('PRAGMA user_version = 1');
    raw
      .prepare(
        `INSERT INTO flows (hour, program, name, remote_address, port, protocol, direction, opened, closed, bytes_in, bytes_out, first_seen, last_seen)
         VALUES (?, '/usr/bin/curl', 'curl', '93.184.216.34', 443, 'tcp', 'out', 1, 1, 5, 5, ?, ?)`,
      )
      .run(T0, T0, T0);
    raw.close();
    const writer = opened(HistoryStore.open(path, { mode: 'write', command: 'test' }));
    expect(writer.contacts(10)).toEqual({ keys: ['/usr/bin/curl|93.184.216.34|443|tcp'], truncated: false, since: T0 });
    expect(writer.contacts(0)).toMatchObject({ keys: [], truncated: true });
    writer.close();
    const check = new Database(path);
    expect((check.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(SCHEMA_VERSION);
    const plan = check
      .prepare(`EXPLAIN QUERY PLAN SELECT program, remote_address, port, protocol FROM flow_keys WHERE direction = 'out' LIMIT 5`)
      .all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/COVERING INDEX flow_keys_key/);
    check.close();
  });
});

describe('HistoryStore: an older database', () => {
  /** A database as schema 1 left it: one table of hourly flows keyed by five text columns. */
  function version1(path: string): void {
    const raw = new Database(path);
    raw.exec('PRAGMA journal_mode = WAL');
    raw.exec(MIGRATIONS[0] as string);
    raw.exec('PRAGMA user_version = 1');
    const put = raw.prepare('INSERT INTO flows VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)');
    for (const [hour, bytesIn] of [
      [T0, 100],
      [T0 + HOUR_MS, 50],
    ] as const) {
      put.run(hour, '/usr/bin/curl', 'curl', '93.184.216.34', 443, 'tcp', 'out', 2, 2, bytesIn, 10, hour + 5, hour + 60_000);
      put.run(hour, '/usr/bin/ssh', 'ssh', '10.0.0.9', 22, 'tcp', 'out', 1, 0, 7, 7, hour + 9, hour + 9);
    }
    raw.close();
  }

  it('a reader refuses it and leaves it byte for byte; the next writer migrates it, keeping every flow', () => {
    const path = join(dir, 'h.db');
    version1(path);
    const before = readFileSync(path);
    const r = HistoryStore.open(path, { mode: 'read' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('older');
      expect(r.message).toMatch(/older Portwatch \(schema 1; .*the next recording .* brings it up to date/);
    }
    expect(readFileSync(path).equals(before)).toBe(true);
    const store = opened(HistoryStore.open(path, { mode: 'write' }));
    expect(store.counts()).toMatchObject({ flows: 4, keys: 2 });
    const flows = store.flows({ since: T0, until: T0 + 2 * HOUR_MS });
    expect(flows.map((f) => [f.program, f.opened, f.bytesIn, f.firstSeen, f.lastSeen])).toEqual([
      ['/usr/bin/curl', 4, 150, T0 + 5, T0 + HOUR_MS + 60_000],
      ['/usr/bin/ssh', 2, 14, T0 + 9, T0 + HOUR_MS + 9],
    ]);
    // and it records on in the new shape, into the same flow
    const tracker = new HistoryTracker();
    store.write(tracker.snapshot({ seq: 1, takenAt: T0 + 2 * HOUR_MS, source: 'netlink', sockets: [] }));
    store.write(tracker.delta(delta(2, T0 + 2 * HOUR_MS + 1000, { added: [conn(50000, 1, 1)] })));
    expect(store.counts()).toMatchObject({ flows: 5, keys: 2 });
    expect(store.flows({ since: T0, until: T0 + 3 * HOUR_MS })[0]).toMatchObject({ program: '/usr/bin/curl', opened: 5, bytesIn: 151 });
    store.close();
    const raw = new Database(path);
    expect((raw.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(SCHEMA_VERSION);
    raw.close();
  });
});

describe("HistoryStore: what a monitor's polls become", () => {
  it("records opens, closes (with the kernel's bytes for one no poll saw), listeners and hourly flows", () => {
    const store = opened(HistoryStore.open(join(dir, 'h.db'), { mode: 'write' }));
    const tracker = new HistoryTracker();
    store.write(tracker.snapshot({ seq: 1, takenAt: T0, source: 'netlink', sockets: [listener] }, store.openListenerKeys()));
    store.write(tracker.delta(delta(2, T0 + 1000, { added: [conn(50000, 100, 10)] })));
    store.write(tracker.delta(delta(3, T0 + 2000, { changed: [conn(50000, 700, 30)] })));
    // closed by the kernel with its final counters, and one that lived between two polls
    store.write(
      tracker.delta(
        delta(4, T0 + 3000, {
          removed: [conn(50000, 0, 0).id, listener.id],
          closed: [closedRecord(50000, 900, 40, T0 + 2900), closedRecord(50001, 5000, 60, T0 + 2950)],
        }),
      ),
    );
    const flows = store.flows({ since: T0 - HOUR_MS, until: T0 + HOUR_MS });
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({
      program: '/usr/bin/curl',
      name: 'curl',
      remoteAddress: '93.184.216.34',
      port: 443,
      direction: 'out',
      opened: 2,
      closed: 2,
      bytesIn: 5900,
      bytesOut: 100,
    });
    const events = store.events({ since: T0, until: T0 + 10_000 });
    expect(events.map((e) => e.kind)).toEqual(['listen', 'open', 'close', 'close', 'unlisten']);
    const [, , closeSeen, closeUnseen, unlisten] = events;
    expect(closeSeen).toMatchObject({ bytesIn: 900, bytesOut: 40, durationMs: 1900 });
    expect(closeUnseen).toMatchObject({ bytesIn: 5000, durationMs: null, note: 'between-polls' });
    expect(unlisten).toMatchObject({ localPort: 8080, name: 'nginx', durationMs: 3000 });
    expect(store.listeners({ since: T0, until: T0 + 10_000 })).toEqual([
      expect.objectContaining({ localPort: 8080, name: 'nginx', exe: '/usr/sbin/nginx', startedAt: T0, stoppedAt: T0 + 3000 }),
    ]);
    store.close();
  });

  it('a restart closes, as "not recording", a listener that went away while nothing recorded, and does not repeat one still there', () => {
    const path = join(dir, 'h.db');
    const first = opened(HistoryStore.open(path, { mode: 'write' }));
    first.write(new HistoryTracker().snapshot({ seq: 1, takenAt: T0, source: 'netlink', sockets: [listener] }, first.openListenerKeys()));
    first.close();
    const other = { ...listener, id: 'tcp|0.0.0.0|9090|*|*', localPort: 9090 };
    const second = opened(HistoryStore.open(path, { mode: 'write' }));
    second.write(new HistoryTracker().snapshot({ seq: 1, takenAt: T0 + 60_000, source: 'netlink', sockets: [other] }, second.openListenerKeys()));
    const spans = second.listeners({ since: T0, until: T0 + 120_000 });
    expect(spans.map((s) => [s.localPort, s.startedAt, s.stoppedAt, s.stopNote])).toEqual([
      [8080, T0, T0 + 60_000, 'not-recording'],
      [9090, T0 + 60_000, null, null],
    ]);
    second.close();
  });

  it('a connection listed and freed in the same poll is counted once, with its final bytes', () => {
    const store = opened(HistoryStore.open(join(dir, 'h.db'), { mode: 'write' }));
    const tracker = new HistoryTracker();
    store.write(tracker.snapshot({ seq: 1, takenAt: T0, source: 'netlink', sockets: [] }));
    store.write(tracker.delta(delta(2, T0 + 1000, { added: [conn(50000, 100, 10)], closed: [closedRecord(50000, 300, 20, T0 + 1000)] })));
    store.write(tracker.delta(delta(3, T0 + 2000, { removed: [conn(50000, 0, 0).id] })));
    store.write(tracker.delta(delta(4, T0 + 3000, {})));
    store.write(tracker.flush());
    expect(store.flows({ since: T0, until: T0 + HOUR_MS })).toEqual([expect.objectContaining({ opened: 1, closed: 1, bytesIn: 300, bytesOut: 20 })]);
    expect(store.events({ since: T0, until: T0 + 10_000 }).map((e) => e.kind)).toEqual(['open', 'close']);
    store.close();
  });
  it("a poll that read the peer's FIN as a byte is corrected by the kernel's final count, never below zero in an hour", () => {
    // the dump reads the state (ESTABLISHED) before the counters: a FIN landing in between reads as one byte more
    const store = opened(HistoryStore.open(join(dir, 'h.db'), { mode: 'write' }));
    const tracker = new HistoryTracker();
    store.write(tracker.snapshot({ seq: 1, takenAt: T0, source: 'netlink', sockets: [] }));
    store.write(tracker.delta(delta(2, T0 + 1000, { added: [conn(50000, 100, 10)] })));
    store.write(tracker.delta(delta(3, T0 + 2000, { changed: [conn(50000, 701, 10)] })));
    store.write(tracker.delta(delta(4, T0 + 3000, { closed: [closedRecord(50000, 700, 10, T0 + 3000)] })));
    // another connection counted in one hour and finished, one byte low, in the next: the next hour stays at 0
    store.write(tracker.delta(delta(5, T0 + 4000, { added: [conn(50001, 50, 5)] })));
    store.write(tracker.delta(delta(6, T0 + HOUR_MS + 1000, { closed: [closedRecord(50001, 49, 5, T0 + HOUR_MS + 1000)] })));
    store.write(tracker.flush());
    const flows = store.flows({ since: T0, until: T0 + HOUR_MS });
    expect(flows).toEqual([expect.objectContaining({ opened: 2, closed: 1, bytesIn: 750, bytesOut: 15 })]);
    expect(store.flows({ since: T0 + HOUR_MS, until: T0 + 2 * HOUR_MS })).toEqual([expect.objectContaining({ opened: 0, closed: 1, bytesIn: 0, bytesOut: 0 })]);
    store.close();
  });

  it('a connection the kernel closed while its TIME_WAIT remnant is still listed is not taken up again when that changes', () => {
    const store = opened(HistoryStore.open(join(dir, 'h.db'), { mode: 'write' }));
    const tracker = new HistoryTracker();
    store.write(tracker.snapshot({ seq: 1, takenAt: T0, source: 'netlink', sockets: [] }));
    store.write(tracker.delta(delta(2, T0 + 1000, { added: [conn(50000, 100, 10)] })));
    const tw = {
      ...conn(50000, 0, 0),
      state: 'TIME_WAIT' as const,
      bytesIn: null,
      bytesOut: null,
      pid: null,
      pids: [],
      process: null,
      noOwner: 'closed' as const,
    };
    store.write(tracker.delta(delta(3, T0 + 2000, { changed: [tw], closed: [closedRecord(50000, 200, 20, T0 + 2000)] })));
    store.write(tracker.delta(delta(4, T0 + 3000, { changed: [{ ...tw, lastOwner: curl }] })));
    store.write(tracker.delta(delta(5, T0 + 63_000, { removed: [tw.id] })));
    store.write(tracker.delta(delta(6, T0 + 64_000, {})));
    store.write(tracker.flush());
    expect(store.events({ since: T0, until: T0 + 100_000 }).map((e) => e.kind)).toEqual(['open', 'close']);
    expect(store.flows({ since: T0, until: T0 + HOUR_MS })).toEqual([expect.objectContaining({ opened: 1, closed: 1, bytesIn: 200, bytesOut: 20 })]);
    store.close();
  });

  it('splits flows by the hour and sums them back for a range', () => {
    const store = opened(HistoryStore.open(join(dir, 'h.db'), { mode: 'write' }));
    const tracker = new HistoryTracker();
    store.write(tracker.snapshot({ seq: 1, takenAt: T0, source: 'netlink', sockets: [] }));
    store.write(tracker.delta(delta(2, T0 + 1000, { added: [conn(50000, 10, 1)] })));
    store.write(tracker.delta(delta(3, T0 + HOUR_MS + 1000, { changed: [conn(50000, 30, 2)] })));
    expect(store.counts().flows).toBe(2);
    expect(store.flows({ since: T0, until: T0 + 2 * HOUR_MS })[0]).toMatchObject({
      bytesIn: 30,
      bytesOut: 2,
      firstSeen: T0 + 1000,
      lastSeen: T0 + HOUR_MS + 1000,
    });
    expect(store.flows({ since: T0 + HOUR_MS, until: T0 + 2 * HOUR_MS })[0]).toMatchObject({ bytesIn: 20, bytesOut: 1 });
    store.close();
  });

  it('a clock stepped back reorders nothing: later events keep the last time until the clock passes it, also after a restart', () => {
    const path = join(dir, 'h.db');
    let store = opened(HistoryStore.open(path, { mode: 'write' }));
    const tracker = new HistoryTracker();
    store.write(tracker.snapshot({ seq: 1, takenAt: T0 + HOUR_MS, source: 'netlink', sockets: [listener] }));
    // the clock steps back an hour: a connection opens, another only the kernel saw closes
    store.write(tracker.delta(delta(2, T0 + 1000, { added: [conn(50000, 10, 1)], closed: [closedRecord(50001, 5, 5, T0 + 900)] })));
    store.write(tracker.delta(delta(3, T0 + HOUR_MS + 5000, { removed: [listener.id] })));
    const order = (s: HistoryStore) => s.events({ since: 0, until: T0 + 2 * HOUR_MS }).map((e) => [e.kind, e.at]);
    expect(order(store)).toEqual([
      ['listen', T0 + HOUR_MS],
      ['open', T0 + HOUR_MS],
      ['close', T0 + HOUR_MS],
      ['unlisten', T0 + HOUR_MS + 5000],
    ]);
    // every flow went to the hour it was really in, none to the hour before
    expect(store.flows({ since: T0 - HOUR_MS, until: T0 + HOUR_MS - 1 })).toEqual([]);
    store.close();
    // restarted with the clock still behind: the store stamps nothing before what it holds
    store = opened(HistoryStore.open(path, { mode: 'write' }));
    store.write({ events: [event(T0)], flows: [] });
    expect(order(store).at(-1)).toEqual(['open', T0 + HOUR_MS + 5000]);
    store.close();
  });

  it('writes a batch in one transaction: a row that fails takes the whole batch back', () => {
    const store = opened(HistoryStore.open(join(dir, 'h.db'), { mode: 'write' }));
    const bad = { ...event(T0 + 2), kind: 'bogus' } as unknown as HistoryEvent;
    const batch: HistoryBatch = { events: [event(T0), event(T0 + 1), bad], flows: [] };
    expect(() => store.write(batch)).toThrow(/CHECK constraint/);
    expect(store.counts().events).toBe(0);
    store.write({ events: [event(T0)], flows: [] });
    expect(store.counts().events).toBe(1);
    store.close();
  });

  it('a busy poll (rows bound many to a statement) keeps every column of every event, in order, and its listeners', () => {
    const path = join(dir, 'h.db');
    const store = opened(HistoryStore.open(path, { mode: 'write' }));
    store.write({ events: [event(T0 + 10_000)], flows: [] });
    // 64 + 8 + 1 + 1 + 1: every statement size, each value distinct; a listener up and another down among them;
    // the first 20 stamped before what the store holds (a clock stepped back)
    const many: HistoryEvent[] = Array.from({ length: 75 }, (_, i) =>
      event(T0 + (i < 20 ? i : 10_000 + i), {
        kind: i % 2 === 0 ? 'open' : 'close',
        socketId: `sock-${i}`,
        protocol: i % 3 === 0 ? 'udp' : 'tcp',
        family: i % 5 === 0 ? 6 : 4,
        localAddress: `10.0.${i}.2`,
        localPort: 40_000 + i,
        remoteAddress: i === 7 ? null : `192.0.2.${i}`,
        remotePort: i === 7 ? null : 1000 + i,
        direction: i === 7 ? null : i % 2 === 0 ? 'out' : 'in',
        pid: i === 9 ? null : 100 + i,
        name: `name-${i}`,
        exe: i === 11 ? null : `/bin/exe-${i}`,
        user: `user-${i}`,
        uid: i,
        bytesIn: i * 3,
        bytesOut: i === 13 ? null : i * 5,
        durationMs: i % 4 === 0 ? null : i * 7,
        netns: i % 6 === 0 ? `ns-${i}` : null,
        note: i % 2 === 0 ? null : `note-${i}`,
      }),
    );
    const listenerEvent = (at: number, kind: 'listen' | 'unlisten', note: string | null): HistoryEvent =>
      event(at, { kind, socketId: 'l1', localAddress: '0.0.0.0', localPort: 9090, remoteAddress: null, remotePort: null, direction: null, note });
    many[66] = listenerEvent(T0 + 10_066, 'listen', null);
    many[72] = listenerEvent(T0 + 10_072, 'unlisten', 'gone');
    store.write({ events: many, flows: [] });
    store.close();
    const raw = new Database(path);
    const rows = raw
      .prepare(
        `SELECT at, kind, socket_id, protocol, family, local_address, local_port, remote_address, remote_port, direction, pid, name, exe, user, uid,
           bytes_in, bytes_out, duration_ms, netns, note FROM events ORDER BY id`,
      )
      .raw()
      .all();
    const spans = raw.prepare('SELECT local_port, started_at, stopped_at, stop_note FROM listeners').raw().all();
    raw.close();
    expect(rows).toHaveLength(76);
    expect(rows.slice(1)).toEqual(
      many.map((e) => [
        Math.max(e.at, T0 + 10_000),
        e.kind,
        e.socketId,
        e.protocol,
        e.family,
        e.localAddress,
        e.localPort,
        e.remoteAddress,
        e.remotePort,
        e.direction,
        e.pid,
        e.name,
        e.exe,
        e.user,
        e.uid,
        e.bytesIn,
        e.bytesOut,
        e.durationMs,
        e.netns,
        e.note,
      ]),
    );
    expect(spans).toEqual([[9090, T0 + 10_066, T0 + 10_072, 'gone']]);
  });
});

describe('HistoryStore: retention', () => {
  it('prunes events after 7 days and flows after a year, by the injected clock, in small batches', () => {
    let now = T0;
    const store = opened(HistoryStore.open(join(dir, 'h.db'), { mode: 'write', now: () => now, retention: { batchRows: 10 } }));
    store.write({ events: Array.from({ length: 25 }, (_, i) => event(T0 + i)), flows: [] });
    const tracker = new HistoryTracker();
    store.write(tracker.snapshot({ seq: 1, takenAt: T0, source: 'netlink', sockets: [] }));
    store.write(tracker.delta(delta(2, T0 + 1000, { added: [conn(50000, 10, 1)] })));
    now = T0 + 6 * DAY_MS;
    expect(store.prune().deleted).toBe(0);
    now = T0 + 8 * DAY_MS;
    const steps = [store.prune(), store.prune(), store.prune()];
    expect(steps.map((s) => s.deleted)).toEqual([10, 10, 6]); // 25 + the open event, ten at a time
    expect(steps.map((s) => s.more)).toEqual([true, true, false]);
    expect(store.counts()).toMatchObject({ events: 0, flows: 1 });
    now = T0 + 366 * DAY_MS;
    store.prune();
    // the hours go, and with them the key (what curl contacted) they summed
    expect(store.counts()).toMatchObject({ flows: 0, keys: 0 });
    store.close();
  });

  it('keeps the database under its size cap by dropping the oldest events first', () => {
    const cap = 256 * 1024;
    const store = opened(HistoryStore.open(join(dir, 'h.db'), { mode: 'write', now: () => T0 + 10_000, retention: { maxBytes: cap, batchRows: 500 } }));
    for (let b = 0; b < 10; b++) store.write({ events: Array.from({ length: 500 }, (_, i) => event(T0 + b * 500 + i)), flows: [] });
    expect(store.usedBytes()).toBeGreaterThan(cap);
    let rounds = 0;
    while (store.prune().more) rounds++;
    expect(rounds).toBeGreaterThan(1); // more than one small step
    expect(store.usedBytes()).toBeLessThanOrEqual(cap);
    const left = store.events({ since: 0, until: T0 + 10_000 });
    expect(left.length).toBeGreaterThan(0);
    expect(left.at(-1)?.at).toBe(T0 + 4999); // the newest stay
    store.close();
  });
});

describe('HistoryStore: one writer, and hostile files', () => {
  it('a second writer is refused and told who records; a reader opens while the writer writes', () => {
    const path = join(dir, 'h.db');
    const writer = opened(HistoryStore.open(path, { mode: 'write', command: 'portwatch record --db x' }));
    writer.write({ events: [event(T0)], flows: [] });
    const second = HistoryStore.open(path, { mode: 'write' });
    expect(second.ok).toBe(false);
    if (!second.ok) {
      expect(second.code).toBe('locked');
      expect(second.message).toContain(`pid ${process.pid} (portwatch record --db x)`);
    }
    expect(HistoryLock.holder(`${path}.lock`)).toMatchObject({ pid: process.pid, command: 'portwatch record --db x' });
    const reader = opened(HistoryStore.open(path, { mode: 'read' }));
    expect(reader.counts().events).toBe(1);
    reader.close();
    writer.close();
    expect(HistoryLock.holder(`${path}.lock`)).toBeNull();
    opened(HistoryStore.open(path, { mode: 'write' })).close();
  });

  it('refuses a symbolic link at the database or beside it, and never writes through it', () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    const target = join(elsewhere, 'victim');
    writeFileSync(target, 'precious');
    const db = join(dir, 'h.db');
    symlinkSync(target, db);
    const r = HistoryStore.open(db, { mode: 'write' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/h\.db is a symbolic link; Portwatch never writes its history through a link/);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    rmSync(db);
    symlinkSync(target, `${db}-wal`);
    const wal = HistoryStore.open(db, { mode: 'write' });
    expect(wal.ok).toBe(false);
    if (!wal.ok) expect(wal.message).toMatch(/h\.db-wal is a symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(existsSync(db)).toBe(false);
  });

  it('refuses a symbolic link on the way to the database', () => {
    const real = join(dir, 'real');
    mkdirSync(real);
    symlinkSync(real, join(dir, 'link'));
    const r = HistoryStore.open(join(dir, 'link', 'h.db'), { mode: 'write' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/link is a symbolic link; Portwatch keeps its history only in real directories/);
    expect(readdirSync(real)).toEqual([]);
  });

  it('refuses a FIFO at once, and a directory others may write', () => {
    const fifo = join(dir, 'h.db');
    execFileSync('mkfifo', [fifo]);
    for (const mode of ['write', 'read'] as const) {
      const r = HistoryStore.open(fifo, { mode });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/h\.db is a FIFO, not a regular file/);
    }
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = HistoryStore.open(join(open, 'h.db'), { mode: 'write' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/writable by group or others \(mode 0777\)/);
  });

  it('a corrupt database: a reader reports it and leaves it byte for byte; a writer moves it aside and starts afresh', () => {
    const path = join(dir, 'h.db');
    const junk = Buffer.from('this is not a database, but it is somebody\u2019s file '.repeat(100));
    writeFileSync(path, junk);
    const read = HistoryStore.open(path, { mode: 'read' });
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.message).toMatch(/is not a readable history database \(corrupt, or not SQLite\); it is left as it is/);
    expect(readFileSync(path).equals(junk)).toBe(true);
    const write = HistoryStore.open(path, { mode: 'write', now: () => T0 });
    const store = opened(write);
    expect(write.ok && write.notes[0]).toMatch(/moved it aside to .*h\.db\.corrupt-2026-12-01T10-00-00-000Z and started a new one/);
    expect(readFileSync(`${path}.corrupt-2026-12-01T10-00-00-000Z`).equals(junk)).toBe(true);
    store.write({ events: [event(T0)], flows: [] });
    expect(store.counts().events).toBe(1);
    store.close();
  });

  it('a page-level corruption behind a valid header is caught too, and moved aside', () => {
    const path = join(dir, 'h.db');
    const s = opened(HistoryStore.open(path, { mode: 'write' }));
    s.write({ events: Array.from({ length: 200 }, (_, i) => event(T0 + i)), flows: [] });
    s.close();
    const bytes = readFileSync(path);
    bytes.fill(0xa5, 100, bytes.length); // the header stays, the schema page and the rest are garbage
    writeFileSync(path, bytes);
    const read = HistoryStore.open(path, { mode: 'read' });
    expect(read.ok).toBe(false);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    const write = HistoryStore.open(path, { mode: 'write' });
    expect(write.ok).toBe(true);
    if (write.ok) {
      expect(write.notes.join()).toMatch(/moved it aside/);
      write.store.close();
    }
  });
});

describe('HistoryRecorder', () => {
  it('writes after the delta has reached every listener, one batch per poll, and on dispose what waits for a closed record', async () => {
    const store = opened(HistoryStore.open(join(dir, 'h.db'), { mode: 'write' }));
    const monitor = new Emitter<MonitorEvents>();
    const recorder = new HistoryRecorder(monitor, store);
    let seenByOthers = -1;
    monitor.on('delta', () => (seenByOthers = store.counts().events));
    monitor.emit('snapshot', { seq: 1, takenAt: T0, source: 'netlink', sockets: [listener] });
    monitor.emit('delta', delta(2, T0 + 1000, { added: [conn(50000, 10, 1)] }));
    // the other listener ran before anything was written: the write waits for a later turn
    expect(seenByOthers).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.counts().events).toBe(2);
    expect(recorder.stats.batches).toBe(2);
    // gone from the list, its kernel record not (yet) read: written as last seen when the recording ends
    monitor.emit('delta', delta(3, T0 + 2000, { removed: [conn(50000, 0, 0).id] }));
    recorder.dispose();
    expect(store.events({ since: T0, until: T0 + 10_000 }).map((e) => e.kind)).toEqual(['listen', 'open', 'close']);
    monitor.emit('delta', delta(4, T0 + 3000, { added: [conn(50001, 1, 1)] }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.counts().events).toBe(3); // nothing after dispose
    store.close();
  });
});
