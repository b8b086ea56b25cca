import type { Socket as NetSocket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { countSockets, type MonitorEvents, type MonitorLike, type SocketCounts } from '../../../src/main/engine/monitor';
import { Emitter } from '../../../src/main/engine/events';
import { MAX_CLIENTS, startServer, TOO_MANY_CLIENTS, type RunningServer } from '../../../src/main/server';
import { WS_PATH, type WsMessage } from '../../../src/shared/api';
import type { Delta, Snapshot, Socket } from '../../../src/shared/model';
import { waitFor } from '../../helpers/children';
import { ROOT } from '../../helpers/paths';
import { makeSocket } from '../../helpers/sockets';
import { readMessage } from '../../helpers/wire';
import { encodeSnapshot } from '../../../src/shared/wire';

/**
 * Fan-out under load (issue 12, items 3 and 12): slow clients are resynchronised rather than dropped, a
 * snapshot bigger than the backlog limit still arrives, clients are capped, and each message is serialised
 * once. Real server, real ws clients on 127.0.0.1; the engine is a stub whose deltas the test emits.
 */

const STATIC = join(ROOT, 'out', 'renderer');
const TOKEN = 'secret-token-123';

/** An engine whose state changes only when the test says, by deltas it emits at once. */
class StubMonitor implements MonitorLike {
  readonly events = new Emitter<MonitorEvents>();
  seq = 1;
  private takenAt = 1;
  readonly state = new Map<string, Socket>();

  constructor(initial: Socket[]) {
    for (const s of initial) this.state.set(s.id, s);
  }
  start(): void {}
  stop(): Promise<void> {
    return Promise.resolve();
  }
  pause(): void {}
  resume(): void {}
  setIntervalMs(): void {}
  getIntervalMs(): number {
    return 1000;
  }
  isPaused(): boolean {
    return false;
  }
  getSnapshot(): Snapshot {
    return { seq: this.seq, takenAt: this.takenAt, source: 'procfs', sockets: [...this.state.values()] };
  }
  socket(id: string): Socket | undefined {
    return this.state.get(id);
  }
  counts(): SocketCounts {
    return countSockets(this.state);
  }
  getStatus(): null {
    return null;
  }
  on<K extends keyof MonitorEvents>(event: K, handler: (value: MonitorEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }
  delta(added: Socket[], removed: string[] = []): Delta {
    for (const id of removed) this.state.delete(id);
    for (const s of added) this.state.set(s.id, s);
    const d: Delta = { seq: ++this.seq, takenAt: ++this.takenAt, added, removed, changed: [], closed: [] };
    this.events.emit('delta', d);
    return d;
  }
}

const sock = (n: number, pad = 0): Socket => makeSocket({ id: `tcp|127.0.0.1|${n}|*|*|${'x'.repeat(pad)}`, localPort: n % 65536 });

interface Client {
  ws: WebSocket;
  got: WsMessage[];
  closed: { code: number; reason: string } | null;
  /** Stops reading from the socket (the server's writes back up), and starts again. */
  pause(): void;
  resume(): void;
}

/** A client that has shown the token: resolves once welcomed, or once closed (see `closed`). */
function client(port: number, opts: { pauseOnWelcome?: boolean } = {}): Promise<Client> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}`, { headers: { Origin: `http://127.0.0.1:${port}` } });
    const raw = (): NetSocket => (ws as unknown as { _socket: NetSocket })._socket;
    const c: Client = { ws, got: [], closed: null, pause: () => raw().pause(), resume: () => raw().resume() };
    ws.on('message', (d) => {
      const m = readMessage(d);
      if (m.type !== 'welcome') return void c.got.push(m);
      if (opts.pauseOnWelcome) c.pause();
      resolve(c);
    });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token: TOKEN })));
    ws.once('close', (code, reason) => {
      c.closed = { code, reason: String(reason) };
      resolve(c);
    });
    ws.on('error', () => undefined);
  });
}

/** Its replayed seq, or a throw if the server closed it (the failure these tests guard against). */
function seqOf(c: Client): number {
  if (c.closed) throw new Error(`client closed: ${c.closed.code} ${c.closed.reason}`);
  return replay(c.got).seq;
}

type EventMessage = Extract<WsMessage, { type: 'event' }>;
const events = (c: Client, event: string): EventMessage[] => c.got.filter((m): m is EventMessage => m.type === 'event' && m.event === event);

/** Replays what a client got, as the renderer would; throws on a delta that does not follow its predecessor. */
function replay(got: WsMessage[]): { seq: number; ids: string[]; snapshots: number } {
  let seq = -1;
  let snapshots = 0;
  const state = new Set<string>();
  for (const m of got) {
    if (m.type !== 'event') continue;
    if (m.event === 'snapshot') {
      const s = m.data as Snapshot;
      state.clear();
      for (const x of s.sockets) state.add(x.id);
      seq = s.seq;
      snapshots++;
    } else if (m.event === 'delta') {
      const d = m.data as Delta;
      if (d.seq !== seq + 1) throw new Error(`delta ${d.seq} after ${seq}`);
      for (const id of d.removed) state.delete(id);
      for (const x of d.added) state.add(x.id);
      seq = d.seq;
    }
  }
  return { seq, ids: [...state].sort(), snapshots };
}

describe('serve under load', () => {
  const servers: RunningServer[] = [];
  const clients: Client[] = [];
  const start = async (monitor: MonitorLike, opts: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer> => {
    const s = await startServer({ monitor, staticDir: STATIC, port: 0, token: TOKEN, ...opts });
    servers.push(s);
    return s;
  };
  const open = async (port: number, opts?: { pauseOnWelcome?: boolean }): Promise<Client> => {
    const c = await client(port, opts);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const c of clients.splice(0)) c.ws.terminate();
    for (const s of servers.splice(0)) await s.close();
  });

  it('a client that stops reading is not closed: it misses deltas, then resynchronises from a fresh snapshot', async () => {
    const monitor = new StubMonitor([sock(1)]);
    const server = await start(monitor, { maxBufferedBytes: 256 << 10 });
    const slow = await open(server.port);
    const fast = await open(server.port);
    await waitFor(() => (events(slow, 'snapshot').length && events(fast, 'snapshot').length ? true : undefined), 5000, 'snapshots');
    slow.pause();
    // ~40 MB of deltas, far past the limit and what the kernel's socket buffers hold; the state stays small
    let previous: string[] = [];
    for (let k = 0; k < 250; k++) {
      const added = Array.from({ length: 200 }, (_, i) => sock(10_000 + k * 200 + i, 400));
      monitor.delta(added, previous);
      previous = added.map((s) => s.id);
      if (k % 25 === 0) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => (seqOf(fast) === monitor.seq ? true : undefined), 20_000, 'fast client keeps up');
    expect(slow.closed).toBeNull();
    expect(server.stats()).toMatchObject({ clients: 2, behind: 1 });
    slow.resume();
    // its backlog, then a fresh snapshot of the current state
    await waitFor(() => (seqOf(slow) >= 0 && events(slow, 'snapshot').length === 2 ? true : undefined), 20_000, 'resync snapshot');
    expect((events(slow, 'snapshot')[1]?.data as Snapshot).seq).toBe(monitor.seq);
    expect(server.stats().behind).toBe(0);
    // and deltas again, following on from it
    for (let k = 0; k < 3; k++) monitor.delta([sock(1_000 + k)]);
    await waitFor(() => (seqOf(slow) === monitor.seq ? true : undefined), 5000, 'deltas after resync');
    const seen = replay(slow.got);
    expect(seen.snapshots).toBe(2);
    expect(seen.ids).toEqual([...monitor.state.keys()].sort());
    expect(replay(fast.got).ids).toEqual(seen.ids);
    expect(slow.closed).toBeNull();
  }, 60_000);

  it('a snapshot larger than the backlog limit reaches a client whole, and deltas follow it', async () => {
    const monitor = new StubMonitor(Array.from({ length: 40_000 }, (_, i) => sock(i)));
    const limit = 1 << 20;
    const server = await start(monitor, { maxBufferedBytes: limit });
    // as it travels: the wire layout (each process once, sockets as rows)
    const size = Buffer.byteLength(JSON.stringify(encodeSnapshot(monitor.getSnapshot())));
    expect(size).toBeGreaterThan(limit);
    // it reads nothing past the welcome for a while, as a busy tab would
    const c = await open(server.port, { pauseOnWelcome: true });
    monitor.delta([sock(50_000)]);
    await new Promise((r) => setTimeout(r, 300));
    monitor.delta([sock(50_001)], [sock(0).id]);
    c.resume();
    await waitFor(() => (seqOf(c) === monitor.seq ? true : undefined), 20_000, 'snapshot and deltas');
    expect(c.closed).toBeNull();
    const snaps = events(c, 'snapshot');
    expect(snaps).toHaveLength(1);
    expect((snaps[0]?.data as Snapshot).sockets).toHaveLength(40_000);
    expect(replay(c.got).ids).toEqual([...monitor.state.keys()].sort());
  }, 60_000);

  it(`refuses client ${MAX_CLIENTS + 1} with 1013 "too many clients", and the others keep working`, async () => {
    const monitor = new StubMonitor([sock(1)]);
    const server = await start(monitor);
    const ok = await Promise.all(Array.from({ length: MAX_CLIENTS }, () => open(server.port)));
    for (const c of ok) expect(c.closed).toBeNull();
    const extra = await open(server.port);
    expect(TOO_MANY_CLIENTS).toBe(1013);
    expect(extra.closed).toEqual({ code: 1013, reason: `too many clients (${MAX_CLIENTS})` });
    expect(extra.got).toEqual([]);
    monitor.delta([sock(2)]);
    await waitFor(() => (ok.every((c) => replay(c.got).seq === monitor.seq) ? true : undefined), 5000, 'all 32 get the delta');
    expect(server.stats().clients).toBe(MAX_CLIENTS);
    // a place freed is a place taken
    ok[0]?.ws.close();
    await waitFor(() => (server.stats().clients === MAX_CLIENTS - 1 ? true : undefined), 5000, 'one left');
    const next = await open(server.port);
    expect(next.closed).toBeNull();
    // and the option sets the cap
    const small = await start(monitor, { maxClients: 1 });
    await open(small.port);
    expect((await open(small.port)).closed).toEqual({ code: 1013, reason: 'too many clients (1)' });
  }, 30_000);

  it('serialises each delta once, whatever the number of clients', async () => {
    const monitor = new StubMonitor([sock(1)]);
    const server = await start(monitor);
    const all = await Promise.all(Array.from({ length: 5 }, () => open(server.port)));
    await waitFor(() => (all.every((c) => events(c, 'snapshot').length === 1) ? true : undefined), 5000, 'snapshots');
    const stringify = vi.spyOn(JSON, 'stringify');
    monitor.delta([sock(2)]);
    monitor.delta([sock(3)], [sock(1).id]);
    const deltas = stringify.mock.calls.filter(([m]) => (m as { event?: unknown } | null)?.event === 'delta');
    stringify.mockRestore();
    expect(deltas).toHaveLength(2);
    await waitFor(() => (all.every((c) => replay(c.got).seq === monitor.seq) ? true : undefined), 5000, 'deltas');
    for (const c of all) expect(replay(c.got).ids).toEqual([...monitor.state.keys()].sort());
  }, 30_000);
});
