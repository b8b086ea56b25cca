import type { ClosedConnection, Delta, MonitorStatus, ProcessInfo, Snapshot, Socket, SourceName } from '../../shared/model';
import { diffSockets, indexSockets, snapshotOf, type SocketMap } from './diff';
import { Emitter } from './events';
import { readHostPorts } from './hostPorts';
import { NON_LINUX_PORTS, TrafficTracker } from './traffic';
import type { HostPorts } from '../../shared/direction';
import type { SocketSource } from './sources/source';

import { DEFAULT_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS, MIN_POLL_INTERVAL_MS } from '../../shared/polling';

/** Outbound destinations remembered for guessing the owner of a connection no poll saw, and for how long. */
const MAX_RECENT_CLIENTS = 20_000;
const RECENT_CLIENT_MS = 10 * 60_000;

export type MonitorEvents = {
  snapshot: Snapshot;
  delta: Delta;
  status: MonitorStatus;
};

export interface SocketCounts {
  sockets: number;
  listening: number;
}

/** Counts of a socket map (the monitors' own state). */
export function countSockets(current: ReadonlyMap<string, Socket> | null): SocketCounts {
  let listening = 0;
  if (current) for (const s of current.values()) if (s.listening) listening++;
  return { sockets: current?.size ?? 0, listening };
}

/** What hosts (CLI, web server, Electron) use, whether the monitor runs here or in a worker. */
export interface MonitorLike {
  start(): void;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  setIntervalMs(ms: number): void;
  getIntervalMs(): number;
  isPaused(): boolean;
  /** The latest good snapshot (also while failing: then the status says since when it is stale). */
  getSnapshot(): Snapshot | null;
  /** One socket of the latest snapshot by id, without copying the snapshot. */
  socket(id: string): Socket | undefined;
  /** How many sockets the latest snapshot holds, and how many of them listen; no copy either. */
  counts(): SocketCounts;
  getStatus(): MonitorStatus | null;
  on<K extends keyof MonitorEvents>(event: K, handler: (value: MonitorEvents[K]) => void): () => void;
}

/** Throws a RangeError naming the allowed range unless `ms` is a whole number within it. */
export function checkInterval(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < MIN_POLL_INTERVAL_MS || ms > MAX_POLL_INTERVAL_MS) {
    throw new RangeError(`interval must be a whole number of milliseconds from ${MIN_POLL_INTERVAL_MS} to ${MAX_POLL_INTERVAL_MS}, got ${String(ms)}`);
  }
  return ms;
}

export interface MonitorOptions {
  source: SocketSource;
  intervalMs?: number;
  now?: () => number;
}

/**
 * The poll loop. One poll at a time: the next is scheduled when the previous finishes, `intervalMs` after it
 * started (at once if it overran). Emits the first snapshot, then one delta per poll. A failing source yields
 * an error status; the last good snapshot is kept and the loop keeps trying, so it recovers by itself.
 */
export class Monitor implements MonitorLike {
  private readonly source: SocketSource;
  private readonly now: () => number;
  private readonly events = new Emitter<MonitorEvents>();
  private intervalMs: number;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;
  private running = false;
  private paused = false;
  private lastStart = 0;
  private current: SocketMap | null = null;
  private snapshotMeta: Omit<Snapshot, 'sockets'> | null = null;
  private seq = 0;
  private status: MonitorStatus | null = null;
  private inFlight: Promise<void> | null = null;
  /**
   * Per TCP connection in view: when a poll first listed it and the last owner it had (a closing connection
   * loses its owner before the kernel frees it). Kept by deltas, so it costs what churns; closed records are
   * completed from it.
   */
  private readonly connections = new Map<
    string,
    { firstSeen: number; pid: number | null; name: string | null; uid: number | null; process: ProcessInfo | null }
  >();

  /**
   * The last owned outbound connection to each remote host and port (by namespace), oldest first, at most
   * MAX_RECENT_CLIENTS: the owner a connection that lived between two polls most likely had (a client that
   * connects again and again: curl in a loop, a health check, a pool).
   */
  private readonly recentClients = new Map<string, { pid: number; name: string | null; uid: number | null; at: number }>();

  private readonly traffic = new TrafficTracker();
  private portsCache: Record<string, HostPorts> | null = null;

  constructor(opts: MonitorOptions) {
    this.source = opts.source;
    this.now = opts.now ?? Date.now;
    this.intervalMs = checkInterval(opts.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  }

  get sourceName(): SourceName {
    return this.source.name;
  }

  on<K extends keyof MonitorEvents>(event: K, handler: (value: MonitorEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clearTimer();
    await this.inFlight;
    this.source.close?.();
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.clearTimer();
    this.setStatus({ state: 'paused', source: this.source.name, lastPollAt: this.snapshotMeta?.takenAt ?? null });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.running && !this.polling) this.schedule(0);
  }

  setIntervalMs(ms: number): void {
    this.intervalMs = checkInterval(ms);
    if (this.timer !== null) {
      this.clearTimer();
      this.schedule(this.nextDelay());
    }
  }

  getIntervalMs(): number {
    return this.intervalMs;
  }

  isPaused(): boolean {
    return this.paused;
  }

  getSnapshot(): Snapshot | null {
    return this.current && this.snapshotMeta ? snapshotOf(this.current, this.snapshotMeta) : null;
  }

  socket(id: string): Socket | undefined {
    return this.current?.get(id);
  }

  counts(): SocketCounts {
    return countSockets(this.current);
  }

  getStatus(): MonitorStatus | null {
    return this.status;
  }

  /** Runs one poll now unless one is running; resolves when it is done. For hosts and tests. */
  pollOnce(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    this.clearTimer();
    return this.poll();
  }

  /**
   * Time to the next poll: an interval after the last one started, at once if that has passed. Clamped to
   * [0, interval]: when the wall clock jumps (sleep and resume, a clock step), the result is one poll now,
   * never a burst, and never an hour's wait after a step back.
   */
  private nextDelay(): number {
    return Math.min(this.intervalMs, Math.max(0, this.lastStart + this.intervalMs - this.now()));
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delay: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.poll();
    }, delay);
  }

  private poll(): Promise<void> {
    this.polling = true;
    this.lastStart = this.now();
    this.inFlight = this.runPoll().finally(() => {
      this.polling = false;
      this.inFlight = null;
      if (this.running && !this.paused) this.schedule(this.nextDelay());
    });
    return this.inFlight;
  }

  private async runPoll(): Promise<void> {
    const started = this.now();
    let result;
    try {
      result = await this.source.list();
    } catch (e) {
      this.fail(e, started);
      return;
    }
    const takenAt = this.now();
    if (this.current !== null) this.keepLastOwners(result.sockets);
    const traffic = this.traffic.annotate(this.current, result.sockets, result.closed ?? [], takenAt, result.ports ?? this.ownPorts());
    const next = indexSockets(traffic.sockets);
    this.seq++;
    const meta = { seq: this.seq, takenAt, source: this.source.name };
    if (this.current === null) {
      this.current = next;
      this.snapshotMeta = meta;
      for (const s of traffic.sockets) this.track(s, takenAt);
      this.events.emit('snapshot', snapshotOf(next, meta));
    } else {
      const delta = diffSockets(this.current, next, this.seq, takenAt);
      if (traffic.closed.length > 0) {
        // only a record no poll saw needs the listeners (most of a churning machine's were seen)
        let listeners: Map<string, Socket> | null = null;
        const listenersNow = (): Map<string, Socket> => (listeners ??= Monitor.tcpListeners(traffic.sockets));
        delta.closed = traffic.closed.map((c) => this.complete(c, listenersNow, takenAt));
      }
      for (const s of delta.added) this.track(s, takenAt);
      for (const s of delta.changed) this.track(s, takenAt);
      for (const id of delta.removed) this.connections.delete(id);
      this.current = next;
      this.snapshotMeta = meta;
      this.events.emit('delta', delta);
    }
    const wasOk = this.status?.state === 'ok';
    const warningsChanged = wasOk && this.status?.state === 'ok' && this.status.warnings.join('\n') !== result.warnings.join('\n');
    const ok: MonitorStatus = { state: 'ok', source: this.source.name, lastPollAt: takenAt, pollMs: takenAt - started, warnings: result.warnings };
    if (result.namespaces) ok.namespaces = result.namespaces;
    if (result.udpCounters) ok.udpCounters = result.udpCounters;
    // where UDP counters come from changes when conntrack accounting is turned on or off: clients show it
    const udpChanged = wasOk && this.status?.state === 'ok' && this.status.udpCounters !== ok.udpCounters;
    if (!wasOk || warningsChanged || udpChanged) this.setStatus(ok);
    else this.status = ok;
  }

  /** The port sysctls of Portwatch's own namespace, for a source that reads none; read again every minute or so. */
  private ownPorts(): Record<string, HostPorts> {
    if (this.portsCache === null || this.seq % 60 === 1) this.portsCache = { '': process.platform === 'linux' ? readHostPorts() : NON_LINUX_PORTS };
    return this.portsCache;
  }

  /** Remembers a TCP connection's first sighting and latest owner (a socket that lost its owner keeps the last). */
  private track(s: Socket, at: number): void {
    if (s.protocol !== 'tcp' || s.remoteAddress === null) return;
    const known = this.connections.get(s.id);
    // a new owned client, or one that found its owner: one Map move per connection, not one per poll
    if (s.pid !== null && s.direction === 'out' && known?.pid !== s.pid) this.rememberClient(s, at);
    if (!known) this.connections.set(s.id, { firstSeen: at, pid: s.pid, name: s.process?.name ?? null, uid: s.uid, process: s.process });
    else if (s.pid !== null) {
      known.pid = s.pid;
      known.name = s.process?.name ?? known.name;
      known.uid = s.uid ?? known.uid;
      known.process = s.process ?? known.process;
    }
  }

  /**
   * A socket no process holds now keeps, as `lastOwner`, the process an earlier poll saw holding it: the list
   * says whose it was instead of going blank. A connection the kernel holds after its owner closed it
   * (TIME_WAIT, an orphaned FIN_WAIT) takes it from the connections tracked (which remember an owner across
   * polls that saw none); any socket whose owner let go of it (`not-found`: a poll that fell in its process's
   * exit, the descriptors closed before the socket) takes it from the last poll.
   */
  private keepLastOwners(sockets: Socket[]): void {
    const before = this.current;
    for (const s of sockets) {
      if (s.pid !== null || s.lastOwner) continue;
      if (s.noOwner === 'closed' && s.remoteAddress !== null) {
        const owner = this.connections.get(s.id)?.process;
        if (owner) s.lastOwner = owner;
      } else if (s.noOwner === 'not-found' && before) {
        const was = before.get(s.id);
        const owner = was?.process ?? was?.lastOwner;
        if (owner) s.lastOwner = owner;
      }
    }
  }

  private rememberClient(s: Socket, at: number): void {
    if (s.pid === null) return;
    const key = `${s.netns ?? ''}|${s.remoteAddress ?? ''}|${s.remotePort ?? ''}`;
    this.recentClients.delete(key);
    this.recentClients.set(key, { pid: s.pid, name: s.process?.name ?? null, uid: s.uid, at });
    if (this.recentClients.size > MAX_RECENT_CLIENTS) {
      const oldest = this.recentClients.keys().next();
      if (!oldest.done) this.recentClients.delete(oldest.value);
    }
  }

  /**
   * A closed record with the owner and first sighting a poll saw, when one did. One that lived between two polls
   * has its owner guessed, and says so (`ownerGuess`): coming in to a listener, the listener's owner (the process
   * that accepted it, or its ancestor); going out, the owner of the last connection a poll saw to the same remote
   * host and port, within RECENT_CLIENT_MS and of the same user (the kernel's uid 0 for a freed socket proves
   * nothing, so it matches any).
   */
  private complete(c: ClosedConnection, listeners: () => ReadonlyMap<string, Socket>, at: number): ClosedConnection {
    // `c` is this poll's own copy (TrafficTracker.annotate makes one of each record): set in place, since a
    // spread that adds a property (ownerGuess) takes V8's slow path
    const known = this.connections.get(c.id);
    if (known) return Monitor.owned(c, known.pid, known.name, known.uid, known.firstSeen);
    const owner = listeners().get(`${c.netns ?? ''}|${c.localPort}`);
    if (owner?.process) return Monitor.owned(c, owner.process.pid, owner.process.name, owner.uid, c.firstSeen, 'listener');
    const client = this.recentClients.get(`${c.netns ?? ''}|${c.remoteAddress}|${c.remotePort}`);
    if (client && at - client.at <= RECENT_CLIENT_MS && (c.uid === null || c.uid === 0 || c.uid === client.uid)) {
      return Monitor.owned(c, client.pid, client.name, client.uid, c.firstSeen, 'destination');
    }
    return c;
  }

  private static owned(
    c: ClosedConnection,
    pid: number | null,
    name: string | null,
    uid: number | null,
    firstSeen: number | null,
    guess?: 'listener' | 'destination',
  ): ClosedConnection {
    c.pid = pid;
    c.name = name;
    c.uid = uid;
    c.firstSeen = firstSeen;
    if (guess !== undefined) c.ownerGuess = guess;
    return c;
  }

  /** The owned TCP listeners by namespace and port, for closed records no poll saw. */
  private static tcpListeners(sockets: readonly Socket[]): Map<string, Socket> {
    const out = new Map<string, Socket>();
    for (const s of sockets) if (s.protocol === 'tcp' && s.state === 'LISTEN' && s.process !== null) out.set(`${s.netns ?? ''}|${s.localPort}`, s);
    return out;
  }

  private fail(e: unknown, at: number): void {
    const message = e instanceof Error ? e.message : String(e);
    const prev = this.status;
    const streak = prev?.state === 'error' ? prev : null;
    this.setStatus({
      state: 'error',
      source: this.source.name,
      message: `${this.source.name} source failed: ${message}`,
      staleSince: this.snapshotMeta?.takenAt ?? null,
      failingSince: streak ? streak.failingSince : at,
      failures: (streak?.failures ?? 0) + 1,
    });
  }

  private setStatus(s: MonitorStatus): void {
    this.status = s;
    this.events.emit('status', s);
  }
}
