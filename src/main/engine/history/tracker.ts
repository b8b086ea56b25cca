import type { HistoryFlow } from '../../../shared/history';
import {
  closedAsSocket,
  type ClosedConnection,
  type Delta,
  type Direction,
  type Family,
  type ProcessInfo,
  type Protocol,
  type Snapshot,
  type Socket,
} from '../../../shared/model';

/**
 * What the history records, made from the Monitor's snapshot and deltas: pure bookkeeping, no database (the
 * store writes what this returns). One HistoryTracker follows one Monitor: it remembers each connection's last
 * byte counters and owner, and each listener, so that a poll's batch carries exactly what changed:
 *   - events: a connection opened, closed (with its final bytes and duration), a listener up or down, an owner
 *     changed;
 *   - flow increments: per hour and (program, remote host, port, protocol, direction), the connections opened and
 *     closed and the bytes moved in that poll (counter deltas; a connection that lived between two polls, known
 *     only from the kernel's `closed` record, brings all of its bytes).
 * The port of a flow is the service's: the remote port going out, the local (listening) port coming in, so that
 * the clients of one server are one flow per client host, not one per ephemeral port.
 */

export type HistoryEventKind = 'open' | 'close' | 'listen' | 'unlisten' | 'owner';

export interface HistoryEvent {
  /** Epoch ms: the poll that saw it (takenAt), or the kernel's closedAt. */
  at: number;
  kind: HistoryEventKind;
  /** The socket's id (engine/socketId.ts), to tie a connection's events together. */
  socketId: string;
  protocol: Protocol;
  family: Family;
  localAddress: string;
  localPort: number;
  remoteAddress: string | null;
  remotePort: number | null;
  direction: Direction | null;
  pid: number | null;
  /** The process name, its executable path and user, as the poll saw them (untrusted text). */
  name: string | null;
  exe: string | null;
  user: string | null;
  uid: number | null;
  /** Final (close) or current counters. */
  bytesIn: number | null;
  bytesOut: number | null;
  /** close: since the first poll that listed it; unlisten: since it was seen listening; null when unknown. */
  durationMs: number | null;
  netns: string | null;
  /** owner: the pid before. close: 'between-polls' for a connection no poll saw (with how its owner was guessed, if it was); unlisten: 'not-recording'. */
  note: string | null;
}

/** A poll's share of one flow, in the hour it fell in. */
export type FlowIncrement = HistoryFlow & {
  /** Epoch ms of the hour's start (UTC). */
  hour: number;
};

/** A listener as the listener timeline keeps it (the store's listener spans). */
export interface ListenerKeyed {
  /** protocol|localAddress|localPort|netns: one listening port, whoever holds it. */
  key: string;
}

export interface HistoryBatch {
  events: HistoryEvent[];
  flows: FlowIncrement[];
}

export const HOUR_MS = 3_600_000;

/** Processes remembered by pid (to name the executable of a connection only the kernel saw), and closed ids. */
const MAX_PROCESSES = 20_000;

/** The hour an instant falls in. */
export function hourOf(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

/** The key of a listening port in the listener timeline. */
export function listenerKey(s: Pick<Socket, 'protocol' | 'localAddress' | 'localPort' | 'netns'>): string {
  return `${s.protocol}|${s.localAddress}|${s.localPort}|${s.netns ?? ''}`;
}

/**
 * One outbound contact as the history aggregates it (the flows' program, remote host, port, protocol): what
 * first-contact alerts learn and compare. `program` is the executable's path, else the name, else ''.
 */
export function contactKey(program: string, remoteAddress: string, port: number, protocol: string): string {
  return `${program}|${remoteAddress}|${port}|${protocol}`;
}

/** The program a flow is filed under: the executable's path when known, else the process name, else ''. */
export function programOf(p: { exe: string | null; name: string | null } | null | undefined): string {
  return p?.exe ?? p?.name ?? '';
}

const flowKeyOf = (hour: number, program: string, remoteAddress: string, port: number, protocol: Protocol, direction: Direction): string =>
  `${hour}|${program}|${remoteAddress}|${port}|${protocol}|${direction}`;

interface Owner {
  pid: number | null;
  name: string | null;
  exe: string | null;
  user: string | null;
  uid: number | null;
}

interface Tracked {
  socket: Socket;
  owner: Owner;
  bytesIn: number;
  bytesOut: number;
  /** When this recording first saw it (null: it was there at the start). */
  openedAt: number | null;
  /** The flow bucket this socket last counted into, and its bytes there: what a final count may take back. */
  bucket?: { key: string; bytesIn: number; bytesOut: number };
}

/** A connection gone from the list whose kernel `closed` record may still come with the next poll. */
interface Pending {
  tracked: Tracked;
  removedAt: number;
  polls: number;
}

function ownerOf(s: Socket): Owner {
  const p: ProcessInfo | null | undefined = s.process ?? s.lastOwner;
  return { pid: p?.pid ?? s.pid, name: p?.name ?? null, exe: p?.exe ?? null, user: p?.user ?? s.user, uid: p?.uid ?? s.uid };
}

const isConnection = (s: Socket): boolean => s.remoteAddress !== null && s.remotePort !== null && !s.listening;

export class HistoryTracker {
  private connections = new Map<string, Tracked>();
  private listeners = new Map<string, Tracked>();
  private pending = new Map<string, Pending>();
  /**
   * Connections the kernel's record closed while the list may still show them (its TIME_WAIT remnant): not to be
   * taken up again, as a connection of unknown age, when a later poll changes them. Bounded.
   */
  private finished = new Set<string>();
  /** Processes by pid from the last polls, to name the executable of a connection only the kernel saw. */
  private processes = new Map<number, ProcessInfo>();
  private flows = new Map<string, FlowIncrement>();
  private events: HistoryEvent[] = [];
  /**
   * The latest time stamped so far. A clock stepped back stamps nothing earlier: what follows keeps this time
   * until the clock passes it again, so the history keeps the order things happened in (the store does the same
   * across restarts).
   */
  private clock = -Infinity;

  private stamp(t: number): number {
    if (t > this.clock) this.clock = t;
    return this.clock;
  }

  /** The delta with its times never before the last ones (see `clock`); the same object when the clock ran forward. */
  private monotonic(d: Delta): Delta {
    let closed = d.closed;
    if (d.closed.some((c) => c.closedAt < this.clock)) closed = d.closed.map((c) => (c.closedAt < this.clock ? { ...c, closedAt: this.clock } : c));
    for (const c of closed) this.stamp(c.closedAt);
    const takenAt = this.stamp(d.takenAt);
    return takenAt === d.takenAt && closed === d.closed ? d : { ...d, takenAt, closed };
  }

  /**
   * The first poll. Its connections are counted from here on (bytes before the recording started are not
   * history's); its listeners are compared with the ones the store still has open (`openListeners`: key ->
   * since): a new one is a listen event, one the store has that is gone closed while nothing recorded.
   */
  snapshot(snap: Snapshot, openListeners: ReadonlySet<string> = new Set()): HistoryBatch {
    const takenAt = this.stamp(snap.takenAt);
    const s = takenAt === snap.takenAt ? snap : { ...snap, takenAt };
    this.connections.clear();
    this.listeners.clear();
    this.pending.clear();
    this.processes.clear();
    this.finished.clear();
    const present = new Set<string>();
    for (const sock of s.sockets) {
      this.remember(sock);
      if (sock.listening) {
        const key = listenerKey(sock);
        present.add(key);
        const known = openListeners.has(key);
        this.listeners.set(sock.id, this.track(sock, known ? null : s.takenAt));
        if (!known) this.event(sock, 'listen', s.takenAt);
      } else if (isConnection(sock)) this.connections.set(sock.id, this.track(sock, null));
    }
    for (const key of openListeners) {
      if (present.has(key)) continue;
      const [protocol, localAddress, localPort, netns] = key.split('|') as [Protocol, string, string, string];
      this.events.push({
        at: s.takenAt,
        kind: 'unlisten',
        socketId: '',
        protocol,
        family: localAddress.includes(':') ? 6 : 4,
        localAddress,
        localPort: Number(localPort),
        remoteAddress: null,
        remotePort: null,
        direction: null,
        pid: null,
        name: null,
        exe: null,
        user: null,
        uid: null,
        bytesIn: null,
        bytesOut: null,
        durationMs: null,
        netns: netns === '' ? null : netns,
        note: 'not-recording',
      });
    }
    return this.take();
  }

  /** One poll's delta. */
  delta(delta: Delta): HistoryBatch {
    const d = this.monotonic(delta);
    for (const s of d.added) this.remember(s);
    for (const s of d.changed) this.remember(s);
    // first what the poll listed, then the kernel's records: a connection listed and freed in the same poll is
    // counted once (its record's final bytes less what the listing showed)
    for (const s of d.added) this.seen(s, d.takenAt, true);
    for (const s of d.changed) this.seen(s, d.takenAt, false);
    const closedNow = new Set<string>();
    for (const c of d.closed) {
      closedNow.add(c.id);
      this.closedRecord(c);
    }
    for (const id of d.removed) {
      const listener = this.listeners.get(id);
      if (listener) {
        this.listeners.delete(id);
        this.event(listener.socket, 'unlisten', d.takenAt, {
          owner: listener.owner,
          durationMs: listener.openedAt === null ? null : d.takenAt - listener.openedAt,
        });
        continue;
      }
      const conn = this.connections.get(id);
      if (!conn || closedNow.has(id)) continue;
      this.connections.delete(id);
      // a TCP connection's destroy record may be read at the next poll: wait one for it
      if (conn.socket.protocol === 'tcp') this.pending.set(id, { tracked: conn, removedAt: d.takenAt, polls: 0 });
      else this.closeTracked(conn, d.takenAt, null, null);
    }
    for (const [id, p] of this.pending) {
      if (p.polls++ < 1) continue;
      this.pending.delete(id);
      this.closeTracked(p.tracked, p.removedAt, null, null);
    }
    return this.take();
  }

  /** What is still pending (connections waiting for a closed record), closed as last seen: at the end of a recording. */
  flush(): HistoryBatch {
    for (const p of this.pending.values()) this.closeTracked(p.tracked, p.removedAt, null, null);
    this.pending.clear();
    return this.take();
  }

  private take(): HistoryBatch {
    const batch = { events: this.events, flows: [...this.flows.values()] };
    this.events = [];
    this.flows = new Map();
    return batch;
  }

  private remember(s: Socket): void {
    if (!s.process) return;
    // bounded: pids come and go over a long recording; the ones that matter were seen in the last few polls
    if (this.processes.size >= MAX_PROCESSES && !this.processes.has(s.process.pid)) this.processes.clear();
    this.processes.set(s.process.pid, s.process);
  }

  private track(s: Socket, openedAt: number | null): Tracked {
    return { socket: s, owner: ownerOf(s), bytesIn: s.bytesIn ?? 0, bytesOut: s.bytesOut ?? 0, openedAt };
  }

  /** A socket added or changed by a poll. */
  private seen(s: Socket, at: number, added: boolean): void {
    if (s.listening) {
      const known = this.listeners.get(s.id);
      if (!known) {
        this.listeners.set(s.id, this.track(s, at));
        this.event(s, 'listen', at);
      } else this.ownerChange(known, s, at);
      return;
    }
    if (!isConnection(s)) return;
    const known = this.connections.get(s.id);
    if (added) this.finished.delete(s.id);
    else if (!known && this.finished.has(s.id)) return;
    if (!known) {
      const t = this.track(s, added ? at : null);
      this.connections.set(s.id, t);
      if (added) {
        this.event(s, 'open', at, { owner: t.owner });
        this.count(t, at, { opened: 1, bytesIn: t.bytesIn, bytesOut: t.bytesOut });
      }
      return;
    }
    this.ownerChange(known, s, at);
    const inDelta = Math.max(0, (s.bytesIn ?? known.bytesIn) - known.bytesIn);
    const outDelta = Math.max(0, (s.bytesOut ?? known.bytesOut) - known.bytesOut);
    known.bytesIn = s.bytesIn ?? known.bytesIn;
    known.bytesOut = s.bytesOut ?? known.bytesOut;
    known.socket = s;
    if (inDelta > 0 || outDelta > 0) this.count(known, at, { bytesIn: inDelta, bytesOut: outDelta });
  }

  /** A new owner (a poll saw another pid holding it): an owner event; losing the owner (TIME_WAIT) is not one. */
  private ownerChange(known: Tracked, s: Socket, at: number): void {
    if (s.pid === null || s.pid === known.owner.pid) return;
    const before = known.owner.pid;
    known.owner = ownerOf(s);
    known.socket = s;
    if (before !== null) this.event(s, 'owner', at, { owner: known.owner, note: String(before) });
  }

  /** The kernel freed a TCP connection: its final bytes and, when a poll saw it, its owner and age. */
  private closedRecord(c: ClosedConnection): void {
    if (this.finished.size >= MAX_PROCESSES) this.finished.clear();
    this.finished.add(c.id);
    const known = this.connections.get(c.id) ?? this.pending.get(c.id)?.tracked;
    this.connections.delete(c.id);
    this.pending.delete(c.id);
    if (known) {
      this.closeTracked(known, c.closedAt, c.bytesIn, c.bytesOut);
      return;
    }
    // lived between two polls: all its bytes are this interval's, its owner the Monitor's guess (c.ownerGuess)
    const proc = c.pid === null ? undefined : this.processes.get(c.pid);
    const owner: Owner = { pid: c.pid, name: c.name ?? proc?.name ?? null, exe: proc?.exe ?? null, user: proc?.user ?? null, uid: c.uid };
    const direction: Direction = this.isListening(c) ? 'in' : 'out';
    const socket = closedAsSocket(c, direction, null, owner.user);
    const t: Tracked = { socket, owner, bytesIn: 0, bytesOut: 0, openedAt: null };
    const note = c.ownerGuess ? `between-polls, owner guessed from its ${c.ownerGuess}` : 'between-polls';
    this.event(socket, 'close', c.closedAt, { owner, bytes: [c.bytesIn, c.bytesOut], durationMs: null, note });
    this.count(t, c.closedAt, { opened: 1, closed: 1, bytesIn: c.bytesIn ?? 0, bytesOut: c.bytesOut ?? 0 });
  }

  private isListening(c: ClosedConnection): boolean {
    for (const l of this.listeners.values()) {
      const s = l.socket;
      if (s.protocol === 'tcp' && s.localPort === c.localPort && s.netns === c.netns) return true;
    }
    return false;
  }

  /** A connection's end: its close event and the bytes since the last poll (`finalIn/Out` from the kernel, or none). */
  private closeTracked(t: Tracked, at: number, finalIn: number | null, finalOut: number | null): void {
    // The kernel's final count is the truth. A poll can read one byte more than it: the dump reads a socket's
    // state before it takes the socket's lock for the counters, so a FIN that lands in between is counted in
    // bytes_received by a socket still listed as ESTABLISHED (dataReceived cannot take it off). Take the excess
    // back, but only from what this socket put into the bucket this close lands in, so no hour goes below zero.
    const same = t.bucket !== undefined && t.bucket.key === this.flowKey(t, at) ? t.bucket : undefined;
    const bytesIn = Math.max(-(same?.bytesIn ?? 0), (finalIn ?? t.bytesIn) - t.bytesIn);
    const bytesOut = Math.max(-(same?.bytesOut ?? 0), (finalOut ?? t.bytesOut) - t.bytesOut);
    this.event(t.socket, 'close', at, {
      owner: t.owner,
      bytes: [finalIn ?? t.socket.bytesIn, finalOut ?? t.socket.bytesOut],
      durationMs: t.openedAt === null ? null : Math.max(0, at - t.openedAt),
    });
    this.count(t, at, { closed: 1, bytesIn, bytesOut });
  }

  /** The hourly flow a socket's traffic at `at` counts into. */
  private flowKey(t: Tracked, at: number): string {
    return this.flowPlace(t, at).key;
  }

  /** The hourly flow's fields for a socket's traffic at `at`, and its key. */
  private flowPlace(t: Tracked, at: number): { hour: number; program: string; port: number; direction: Direction; key: string } {
    const s = t.socket;
    const direction: Direction = s.direction ?? 'out';
    const port = direction === 'in' ? s.localPort : (s.remotePort ?? 0);
    const program = programOf(t.owner);
    const hour = hourOf(at);
    return { hour, program, port, direction, key: flowKeyOf(hour, program, s.remoteAddress ?? '', port, s.protocol, direction) };
  }

  private count(t: Tracked, at: number, add: { opened?: number; closed?: number; bytesIn?: number; bytesOut?: number }): void {
    const s = t.socket;
    if (s.remoteAddress === null) return;
    const { hour, program, port, direction, key } = this.flowPlace(t, at);
    if (t.bucket?.key !== key) t.bucket = { key, bytesIn: 0, bytesOut: 0 };
    t.bucket.bytesIn += add.bytesIn ?? 0;
    t.bucket.bytesOut += add.bytesOut ?? 0;
    let f = this.flows.get(key);
    if (!f) {
      f = {
        hour,
        program,
        name: t.owner.name ?? '',
        remoteAddress: s.remoteAddress,
        port,
        protocol: s.protocol,
        direction,
        opened: 0,
        closed: 0,
        bytesIn: 0,
        bytesOut: 0,
        firstSeen: at,
        lastSeen: at,
      };
      this.flows.set(key, f);
    }
    f.opened += add.opened ?? 0;
    f.closed += add.closed ?? 0;
    f.bytesIn += add.bytesIn ?? 0;
    f.bytesOut += add.bytesOut ?? 0;
    f.firstSeen = Math.min(f.firstSeen, at);
    f.lastSeen = Math.max(f.lastSeen, at);
  }

  private event(
    s: Socket,
    kind: HistoryEventKind,
    at: number,
    extra: { owner?: Owner; bytes?: [number | null, number | null]; durationMs?: number | null; note?: string } = {},
  ): void {
    const o = extra.owner ?? ownerOf(s);
    this.events.push({
      at,
      kind,
      socketId: s.id,
      protocol: s.protocol,
      family: s.family,
      localAddress: s.localAddress,
      localPort: s.localPort,
      remoteAddress: s.remoteAddress,
      remotePort: s.remotePort,
      direction: s.direction ?? null,
      pid: o.pid,
      name: o.name,
      exe: o.exe,
      user: o.user,
      uid: o.uid,
      bytesIn: extra.bytes ? extra.bytes[0] : s.bytesIn,
      bytesOut: extra.bytes ? extra.bytes[1] : s.bytesOut,
      durationMs: extra.durationMs ?? null,
      netns: s.netns,
      note: extra.note ?? null,
    });
  }
}
