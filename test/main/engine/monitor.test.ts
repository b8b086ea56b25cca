import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClosedConnection, Delta, MonitorStatus, Snapshot, Socket } from '../../../src/shared/model';
import { checkInterval, Monitor } from '../../../src/main/engine/monitor';
import type { SocketSource, SourceResult } from '../../../src/main/engine/sources/source';
import { makeSocket } from '../../helpers/sockets';

const sock = (port: number, state: Socket['state'] = 'LISTEN', pid = 100): Socket =>
  makeSocket({ id: `tcp|127.0.0.1|${port}|*|*|${port}`, localPort: port, state, listening: state === 'LISTEN', pid, pids: [pid] });

/** A source whose every poll is scripted: a list, an error, or a promise the test resolves by hand. */
class ScriptedSource implements SocketSource {
  readonly name = 'procfs' as const;
  calls = 0;
  active = 0;
  maxActive = 0;
  next: Array<() => Promise<SourceResult>> = [];
  fallback: Socket[] = [];

  list(): Promise<SourceResult> {
    this.calls++;
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const step = this.next.shift() ?? (() => Promise.resolve({ sockets: this.fallback, warnings: [] }));
    return step().finally(() => this.active--);
  }
}

function record(m: Monitor): { snapshots: Snapshot[]; deltas: Delta[]; statuses: MonitorStatus[] } {
  const out = { snapshots: [] as Snapshot[], deltas: [] as Delta[], statuses: [] as MonitorStatus[] };
  m.on('snapshot', (s) => out.snapshots.push(s));
  m.on('delta', (d) => out.deltas.push(d));
  m.on('status', (s) => out.statuses.push(s));
  return out;
}

describe('Monitor', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits the snapshot first, then deltas with added, removed and changed', async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 1000 });
    const rec = record(m);
    src.next.push(() => Promise.resolve({ sockets: [sock(1), sock(2)], warnings: [] }));
    src.next.push(() => Promise.resolve({ sockets: [sock(2, 'CLOSE_WAIT'), sock(3)], warnings: [] }));
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rec.snapshots).toHaveLength(1);
    expect(rec.snapshots[0]?.seq).toBe(1);
    expect(rec.snapshots[0]?.sockets.map((s) => s.localPort)).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(rec.deltas).toHaveLength(1);
    const d = rec.deltas[0] as Delta;
    expect(d.seq).toBe(2);
    expect(d.added.map((s) => s.localPort)).toEqual([3]);
    expect(d.removed).toEqual([sock(1).id]);
    expect(d.changed.map((s) => [s.localPort, s.state])).toEqual([[2, 'CLOSE_WAIT']]);
    expect(
      m
        .getSnapshot()
        ?.sockets.map((s) => s.localPort)
        .sort(),
    ).toEqual([2, 3]);
    await m.stop();
  });

  it('an unchanged poll yields an empty delta, and a changed owner counts as changed', async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 500 });
    const rec = record(m);
    src.next.push(() => Promise.resolve({ sockets: [sock(1)], warnings: [] }));
    src.next.push(() => Promise.resolve({ sockets: [sock(1)], warnings: [] }));
    src.next.push(() => Promise.resolve({ sockets: [sock(1, 'LISTEN', 200)], warnings: [] }));
    m.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(rec.deltas[0]).toMatchObject({ added: [], removed: [], changed: [] });
    expect(rec.deltas[1]?.changed.map((s) => s.pid)).toEqual([200]);
    await m.stop();
  });

  it('never overlaps: a poll that outlasts the interval delays the next one', async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 250 });
    let release!: () => void;
    src.next.push(() => new Promise((resolve) => (release = () => resolve({ sockets: [sock(1)], warnings: [] }))));
    m.start();
    await vi.advanceTimersByTimeAsync(5000);
    expect(src.calls).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    // it overran: the next poll starts at once, then the interval resumes
    expect(src.calls).toBe(2);
    await vi.advanceTimersByTimeAsync(250);
    expect(src.calls).toBe(3);
    expect(src.maxActive).toBe(1);
    await m.stop();
  });

  it('tells of a change of where UDP counters come from (conntrack accounting turned on), and not of every poll', async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 1000 });
    const rec = record(m);
    for (const udpCounters of ['acct-off', 'acct-off', 'conntrack', 'conntrack'] as const)
      src.next.push(() => Promise.resolve({ sockets: [sock(1)], warnings: [], udpCounters }));
    m.start();
    await vi.advanceTimersByTimeAsync(3500);
    expect(rec.statuses.map((s) => s.state === 'ok' && s.udpCounters)).toEqual(['acct-off', 'conntrack']);
    await m.stop();
  });

  it('reports a failing source with stale-since, keeps the last snapshot, and recovers by itself', async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 1000 });
    const rec = record(m);
    src.next.push(() => Promise.resolve({ sockets: [sock(1)], warnings: [] }));
    src.next.push(() => Promise.reject(new Error('cannot read /proc/net/tcp: EACCES')));
    src.next.push(() => Promise.reject(new Error('cannot read /proc/net/tcp: EACCES')));
    src.next.push(() => Promise.resolve({ sockets: [sock(1), sock(2)], warnings: [] }));
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    const goodAt = rec.snapshots[0]?.takenAt;
    await vi.advanceTimersByTimeAsync(2000);
    const errors = rec.statuses.filter((s) => s.state === 'error');
    expect(errors).toHaveLength(2);
    expect(errors[1]).toMatchObject({
      state: 'error',
      staleSince: goodAt,
      failures: 2,
      failingSince: errors[0]?.state === 'error' ? errors[0].failingSince : -1,
    });
    expect(errors[1]?.state === 'error' && errors[1].message).toContain('EACCES');
    expect(m.getSnapshot()?.sockets.map((s) => s.localPort)).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(m.getStatus()?.state).toBe('ok');
    expect(rec.statuses.at(-1)?.state).toBe('ok');
    expect(rec.deltas.at(-1)?.added.map((s) => s.localPort)).toEqual([2]);
    await m.stop();
  });

  it('pauses and resumes; data keeps its sequence', async () => {
    const src = new ScriptedSource();
    src.fallback = [sock(1)];
    const m = new Monitor({ source: src, intervalMs: 1000 });
    const rec = record(m);
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    m.pause();
    expect(m.getStatus()?.state).toBe('paused');
    const calls = src.calls;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(src.calls).toBe(calls);
    m.resume();
    await vi.advanceTimersByTimeAsync(0);
    expect(src.calls).toBe(calls + 1);
    expect(rec.deltas.at(-1)?.seq).toBe(2);
    expect(m.getStatus()?.state).toBe('ok');
    await m.stop();
  });

  it('changes the interval on the fly and refuses bad intervals', async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 1000 });
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(src.calls).toBe(1);
    m.setIntervalMs(5000);
    await vi.advanceTimersByTimeAsync(4000);
    expect(src.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(src.calls).toBe(2);
    for (const bad of [249, 0, -1, NaN, Infinity, 1000.5, '1000', null]) {
      expect(() => m.setIntervalMs(bad as number)).toThrow(RangeError);
    }
    expect(m.getIntervalMs()).toBe(5000);
    expect(checkInterval(250)).toBe(250);
    await m.stop();
  });

  it('stop waits for the poll in flight and schedules nothing after', async () => {
    const src = new ScriptedSource();
    let release!: () => void;
    src.next.push(() => new Promise((resolve) => (release = () => resolve({ sockets: [], warnings: [] }))));
    const m = new Monitor({ source: src, intervalMs: 250 });
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = m.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    await vi.advanceTimersByTimeAsync(5000);
    expect(src.calls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a wall-clock jump (sleep and resume, a clock step) gives one immediate poll, not a burst nor a stall', async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 1000 });
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(src.calls).toBe(1);
    // resumed after an hour asleep: timers fire late, once
    vi.setSystemTime(Date.now() + 3_600_000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(src.calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(src.calls).toBe(3);
    // the clock steps back an hour while a poll runs (between its start and the next one's scheduling):
    // polling goes on at the interval, not an hour later
    const during = (ms: number) => () => {
      vi.setSystemTime(Date.now() + ms);
      return Promise.resolve({ sockets: [], warnings: [] });
    };
    src.next.push(during(-3_600_000));
    await vi.advanceTimersByTimeAsync(1000);
    expect(src.calls).toBe(4);
    await vi.advanceTimersByTimeAsync(1000);
    expect(src.calls).toBe(5);
    // and forward an hour while a poll runs: one poll at once, then the interval again, no burst
    src.next.push(during(3_600_000));
    await vi.advanceTimersByTimeAsync(1000);
    expect(src.calls).toBe(6);
    await vi.advanceTimersByTimeAsync(1); // a zero-delay timer, which runs after at least 1 ms
    expect(src.calls).toBe(7);
    await vi.advanceTimersByTimeAsync(999);
    expect(src.calls).toBe(7);
    await vi.advanceTimersByTimeAsync(1);
    expect(src.calls).toBe(8);
    await m.stop();
  });
});

describe('Monitor: a closed connection keeps its last owner', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const conn = (state: Socket['state'], owned: boolean): Socket =>
    makeSocket({
      id: 'tcp|127.0.0.1|40000|127.0.0.1|80',
      localPort: 40000,
      remoteAddress: '127.0.0.1',
      remotePort: 80,
      state,
      listening: false,
      pid: owned ? 321 : null,
      pids: owned ? [321] : [],
      uid: owned ? 1000 : null,
      noOwner: owned ? null : 'closed',
      process: owned
        ? { pid: 321, ppid: 1, name: 'python3', exe: '/usr/bin/python3', cmdline: ['python3', 'app.py'], uid: 1000, user: 'u', startTime: 5 }
        : null,
    });

  it('marks the TIME_WAIT end with the process a poll saw holding it, and not a connection never seen owned', async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 1000 });
    const rec = record(m);
    const stranger = { ...conn('TIME_WAIT', false), id: 'tcp|127.0.0.1|40001|127.0.0.1|80', localPort: 40001 };
    src.next.push(() => Promise.resolve({ sockets: [conn('ESTABLISHED', true)], warnings: [] }));
    src.next.push(() => Promise.resolve({ sockets: [conn('TIME_WAIT', false), stranger], warnings: [] }));
    src.next.push(() => Promise.resolve({ sockets: [conn('TIME_WAIT', false), stranger], warnings: [] }));
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1000);
    const d = rec.deltas[0] as Delta;
    expect(d.changed).toHaveLength(1);
    expect(d.changed[0]?.lastOwner?.name).toBe('python3');
    expect(d.changed[0]?.pid).toBeNull();
    expect(d.added[0]?.lastOwner).toBeUndefined();
    // the next poll keeps it, and that is no change
    await vi.advanceTimersByTimeAsync(1000);
    expect(rec.deltas[1]?.changed).toEqual([]);
    expect(m.socket(conn('TIME_WAIT', false).id)?.lastOwner?.pid).toBe(321);
    await m.stop();
  });
});

describe('Monitor: a socket its owner let go of keeps its last owner', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const python = { pid: 321, ppid: 1, name: 'python3', exe: '/usr/bin/python3', cmdline: ['python3', 'srv.py'], uid: 1000, user: 'u', startTime: 5 };
  const listener = (id: string, owner: 'owned' | Socket['noOwner']): Socket =>
    makeSocket({
      id,
      localPort: Number(id.split('|')[2]),
      state: 'LISTEN',
      listening: true,
      pid: owner === 'owned' ? 321 : null,
      pids: owner === 'owned' ? [321] : [],
      uid: 1000,
      noOwner: owner === 'owned' ? null : owner,
      ownerHidden: owner === 'hidden',
      process: owner === 'owned' ? python : null,
    });

  it("a listener a poll catches in its process's exit (descriptors gone, socket not yet) names the process the last poll saw", async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 1000 });
    const rec = record(m);
    const a = 'tcp|0.0.0.0|8080|*|*';
    const hidden = 'tcp|0.0.0.0|8081|*|*';
    const stranger = 'tcp|0.0.0.0|8082|*|*';
    src.next.push(() => Promise.resolve({ sockets: [listener(a, 'owned'), listener(hidden, 'owned')], warnings: [] }));
    // the owner let go of the first; the second's owner is hidden now (no reason to name the old one); a third
    // no poll ever saw owned
    src.next.push(() => Promise.resolve({ sockets: [listener(a, 'not-found'), listener(hidden, 'hidden'), listener(stranger, 'not-found')], warnings: [] }));
    src.next.push(() => Promise.resolve({ sockets: [listener(a, 'not-found')], warnings: [] }));
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1000);
    const d = rec.deltas[0] as Delta;
    const changed = new Map(d.changed.map((s) => [s.id, s]));
    expect(changed.get(a)?.pid).toBeNull();
    expect(changed.get(a)?.lastOwner).toEqual(python);
    expect(changed.get(hidden)?.lastOwner).toBeUndefined();
    expect(d.added.find((s) => s.id === stranger)?.lastOwner).toBeUndefined();
    // kept while the socket lingers, and that is no change
    await vi.advanceTimersByTimeAsync(1000);
    expect(rec.deltas[1]?.changed).toEqual([]);
    expect(m.socket(a)?.lastOwner?.pid).toBe(321);
    await m.stop();
  });
});

describe('Monitor: closed connections no poll saw', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('one that came in to a listener is its owner’s, with all its bytes unseen; an outgoing one stays ownerless', async () => {
    const src = new ScriptedSource();
    const m = new Monitor({ source: src, intervalMs: 1000 });
    const rec = record(m);
    const web = { pid: 77, ppid: 1, name: 'nginx', exe: '/usr/sbin/nginx', cmdline: ['nginx'], uid: 33, user: 'www-data', startTime: 1 };
    const listener = makeSocket({ id: 'tcp|0.0.0.0|8080|*|*', localPort: 8080, pid: 77, pids: [77], uid: 33, process: web });
    const closedOne = (localPort: number, remotePort: number): ClosedConnection => ({
      id: `tcp|10.0.0.1|${localPort}|10.0.0.9|${remotePort}`,
      protocol: 'tcp',
      family: 4,
      localAddress: '10.0.0.1',
      localPort,
      remoteAddress: '10.0.0.9',
      remotePort,
      state: 'CLOSE',
      pid: null,
      name: null,
      uid: null,
      bytesIn: 300,
      bytesOut: 10_000,
      firstSeen: null,
      closedAt: 1_001_000,
      netns: null,
    });
    src.next.push(() => Promise.resolve({ sockets: [listener], warnings: [] }));
    src.next.push(() => Promise.resolve({ sockets: [listener], warnings: [], closed: [closedOne(8080, 51000), closedOne(45000, 443)] }));
    m.start();
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(1000);
    const [inbound, outbound] = rec.deltas[0]?.closed ?? [];
    expect(inbound).toMatchObject({ pid: 77, name: 'nginx', uid: 33, unseenBytesIn: 300, unseenBytesOut: 10_000 });
    expect(outbound).toMatchObject({ pid: null, name: null, unseenBytesOut: 10_000 });
    await m.stop();
  });
});
