import type { WebSocket } from 'ws';
import type { WsMessage } from '../../shared/api';
import type { ApiEvent } from '../../shared/contract';
import type { Delta, Snapshot } from '../../shared/model';
import { encodeDelta, encodeSnapshot } from '../../shared/wire';

/*
 * Fan-out of the engine's events to the authenticated WebSockets. Each message is serialised once, to one
 * Buffer that every client's socket shares. A client whose backlog passes the limit is not dropped (it would
 * reconnect at once and fall behind again on the next snapshot): it stops getting deltas, and once its
 * backlog is empty it is resynchronised with a fresh snapshot. A snapshot is sent whole whatever its size,
 * never more than one at a time per client, so a stalled client holds at most one snapshot plus the limit
 * (plus, if it keeps asking while never reading, a limit's worth of answers before it is closed).
 */

/** How often clients that fell behind are checked for having drained; the timer runs only while one is behind. */
export const DRAIN_POLL_MS = 50;

/** Events that carry a whole state: a client that missed them while behind gets the latest on resync. */
const LATEST_WINS: ReadonlySet<ApiEvent> = new Set<ApiEvent>(['status', 'baseline']);

interface Client {
  ws: WebSocket;
  /** Its backlog passed the limit: it gets no events until it has drained and been sent a fresh snapshot. */
  behind: boolean;
  /** Bytes of the snapshot still being written to it (0: none); allowed on top of the limit. */
  snapshotBytes: number;
  /** Seq of the last snapshot it was sent: deltas up to it are already in that snapshot. */
  syncedSeq: number;
  /** State events it missed while behind, replayed after the resync snapshot. */
  missed: Map<ApiEvent, unknown>;
  /** Host names it missed while behind (they arrive a few at a time, so they are merged). */
  missedNames: Record<string, string> | null;
}

export interface BroadcastStats {
  /** Authenticated clients. */
  clients: number;
  /** Clients not being sent deltas until they drain. */
  behind: number;
  /** Messages serialised for all clients (each once, whatever the number of clients). */
  serialised: number;
}

export interface BroadcastOptions {
  /** Backlog (bytes not yet written to the socket) past which a client is behind. */
  limit: number;
  /** The current snapshot, for a client that (re)starts. */
  snapshot: () => Snapshot | null;
  pollMs?: number;
}

const TEXT = { binary: false } as const;

/** The authenticated clients and what each is sent. */
export class Broadcast {
  private readonly clients = new Map<WebSocket, Client>();
  private timer: NodeJS.Timeout | null = null;
  private cached: { seq: number; takenAt: number; data: Buffer } | null = null;
  private serialised = 0;

  constructor(private readonly opts: BroadcastOptions) {}

  get size(): number {
    return this.clients.size;
  }

  stats(): BroadcastStats {
    let behind = 0;
    for (const c of this.clients.values()) if (c.behind) behind++;
    return { clients: this.clients.size, behind, serialised: this.serialised };
  }

  /** Starts sending events to this client, beginning with a full snapshot. */
  add(ws: WebSocket): void {
    const client: Client = { ws, behind: false, snapshotBytes: 0, syncedSeq: -1, missed: new Map(), missedNames: null };
    this.clients.set(ws, client);
    const remove = (): void => {
      this.clients.delete(ws);
    };
    ws.once('close', remove);
    ws.once('error', remove);
    this.sendSnapshot(client);
  }

  /** A message for one client (an answer): sent even while it is behind, but not past twice its allowance. */
  sendTo(ws: WebSocket, m: WsMessage | { type: 'welcome'; token: string }): void {
    if (ws.readyState !== ws.OPEN) return;
    const c = this.clients.get(ws);
    if (c && ws.bufferedAmount > this.allowance(c) + this.opts.limit) {
      // it keeps asking and never reads: nothing else bounds what it is owed
      ws.close(1013, 'too far behind');
      return;
    }
    ws.send(JSON.stringify(m));
  }

  /** One engine event, serialised once, to every client that is keeping up. */
  publish(event: ApiEvent, data: unknown): void {
    if (this.clients.size === 0) return;
    if (event === 'snapshot') {
      for (const c of this.clients.values()) this.offerSnapshot(c);
      return;
    }
    // snapshots and deltas travel in the wire layout (shared/wire.ts): each process once, sockets as rows
    const buf = this.encode({ type: 'event', event, data: event === 'delta' ? encodeDelta(data as Delta) : data });
    const seq = event === 'delta' ? (data as Delta).seq : null;
    for (const c of this.clients.values()) {
      if (c.ws.readyState !== c.ws.OPEN) continue;
      if (c.behind && !this.resync(c)) {
        this.remember(c, event, data);
        continue;
      }
      // a snapshot sent just now already holds this delta
      if (seq !== null && seq <= c.syncedSeq) continue;
      if (c.ws.bufferedAmount > this.allowance(c)) {
        this.fallBehind(c);
        this.remember(c, event, data);
        continue;
      }
      c.ws.send(buf, TEXT);
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clients.clear();
  }

  private allowance(c: Client): number {
    return this.opts.limit + c.snapshotBytes;
  }

  private encode(m: WsMessage): Buffer {
    this.serialised++;
    return Buffer.from(JSON.stringify(m));
  }

  /** The current snapshot's bytes, serialised once per poll however many clients start from it. */
  private snapshotBytesNow(): { seq: number; data: Buffer } | null {
    const s = this.opts.snapshot();
    if (!s) return null;
    if (this.cached?.seq !== s.seq || this.cached.takenAt !== s.takenAt) {
      this.cached = { seq: s.seq, takenAt: s.takenAt, data: this.encode({ type: 'event', event: 'snapshot', data: encodeSnapshot(s) }) };
    }
    return this.cached;
  }

  /** The engine's own snapshot event: a client with one in flight gets a fresh one after it drains instead. */
  private offerSnapshot(c: Client): void {
    if (c.ws.readyState !== c.ws.OPEN || c.behind) return;
    if (c.snapshotBytes > 0) this.fallBehind(c);
    else this.sendSnapshot(c);
  }

  private sendSnapshot(c: Client): void {
    const snap = this.snapshotBytesNow();
    if (!snap || c.ws.readyState !== c.ws.OPEN) return;
    c.syncedSeq = snap.seq;
    c.snapshotBytes = snap.data.length;
    c.ws.send(snap.data, TEXT, () => {
      c.snapshotBytes = 0;
    });
  }

  private fallBehind(c: Client): void {
    c.behind = true;
    if (this.timer) return;
    this.timer = setInterval(() => this.checkBehind(), this.opts.pollMs ?? DRAIN_POLL_MS);
    this.timer.unref();
  }

  private checkBehind(): void {
    let behind = 0;
    for (const c of this.clients.values()) if (c.behind && !this.resync(c)) behind++;
    if (behind === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Once a client's backlog is empty: a fresh snapshot, then the state events it missed. */
  private resync(c: Client): boolean {
    if (c.ws.readyState !== c.ws.OPEN) return false;
    if (c.ws.bufferedAmount > 0) return false;
    c.behind = false;
    this.sendSnapshot(c);
    // per client, but only once per resync, and small
    for (const [event, data] of c.missed) c.ws.send(JSON.stringify({ type: 'event', event, data } satisfies WsMessage));
    if (c.missedNames) c.ws.send(JSON.stringify({ type: 'event', event: 'hostNames', data: c.missedNames } satisfies WsMessage));
    c.missed.clear();
    c.missedNames = null;
    return true;
  }

  /** Deltas are in the resync snapshot; whole states are kept (latest); alerts and actions are not. */
  private remember(c: Client, event: ApiEvent, data: unknown): void {
    if (LATEST_WINS.has(event)) c.missed.set(event, data);
    else if (event === 'hostNames') c.missedNames = { ...c.missedNames, ...(data as Record<string, string>) };
  }
}
