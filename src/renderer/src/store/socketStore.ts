import type { ActionEntry, Alert, BaselineState, CloseResult, KillResult } from '../../../shared/api';
import type { PortwatchApi } from '../../../shared/contract';
import { sameSocket } from '../../../shared/compare';
import type { Delta, MonitorStatus, Snapshot, Socket, SourceName } from '../../../shared/model';

export type Change = 'new' | 'closed' | 'changed';

/** A socket as shown: with its highlight and when this window first saw it. */
export interface Row {
  socket: Socket;
  change: Change | null;
  /** When the highlight ends (a closed row then leaves). */
  until: number;
  firstSeen: number;
}

/** Sockets per state at one moment: the history behind the state chart. */
export interface StatePoint {
  t: number;
  counts: Partial<Record<string, number>>;
}
/** Ten minutes at one point a second. */
export const HISTORY_POINTS = 600;

/** How long each highlight lasts. A closed row stays this long, then leaves. */
export const HIGHLIGHT_MS: Record<Change, number> = { new: 4000, closed: 5000, changed: 1500 };

/** What the UI renders from. A new object on every change; `rows` is rebuilt only when rows changed. */
export interface StoreView {
  version: number;
  rows: readonly Row[];
  rowsVersion: number;
  seq: number;
  takenAt: number | null;
  source: SourceName | null;
  status: MonitorStatus | null;
  connected: boolean;
  intervalMs: number | null;
  /** The engine's own pause (no polling), from the tray or the API. */
  pollingPaused: boolean;
  /** The view is frozen: data keeps arriving underneath, `waiting` changes are held back. */
  frozen: boolean;
  waiting: number;
  elevated: boolean;
  /** This client may change things (false: a read-only web client; the controls are hidden). */
  control: boolean;
  reverseDns: boolean;
  /** Remote address -> host name, as reverse DNS answers arrive. */
  hostNames: Readonly<Record<string, string>>;
  /** The expected-ports baseline (null until known). */
  baseline: BaselineState | null;
  /** Unexpected listeners that appeared, newest last (bounded). */
  alerts: readonly Alert[];
  /** Every kill and close, newest last (bounded). */
  actions: readonly ActionEntry[];
  /** Sockets by state over the last ten minutes (at most one point a second), oldest first. */
  history: readonly StatePoint[];
  /** An action that failed, to show once. */
  error: string | null;
}

/**
 * The renderer's state of the engine, outside React (read through useSyncExternalStore). `live` always
 * follows the engine: a snapshot, then deltas in `seq` order (a gap means: ask again, never guess). The
 * shown rows follow `live` unless the view is frozen, and carry highlights: new (green), changed (yellow),
 * closed (red, and it stays a few seconds before it leaves).
 */
export class SocketStore {
  private live = new Map<string, Socket>();
  private shown = new Map<string, Row>();
  private view: StoreView = {
    version: 0,
    rows: [],
    rowsVersion: 0,
    seq: 0,
    takenAt: null,
    source: null,
    status: null,
    connected: false,
    intervalMs: null,
    pollingPaused: false,
    frozen: false,
    waiting: 0,
    elevated: false,
    control: true,
    reverseDns: false,
    hostNames: {},
    history: [],
    baseline: null,
    alerts: [],
    actions: [],
    error: null,
  };
  private readonly listeners = new Set<() => void>();
  private pendingDeltas: Delta[] = [];
  private haveSnapshot = false;
  private firstLoad = true;
  private resyncing = false;
  private detach: Array<() => void> = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly api: PortwatchApi,
    private readonly now: () => number = Date.now,
  ) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getView = (): StoreView => this.view;

  /** The current socket of an id, whether shown or held back by a frozen view. */
  liveSocket(id: string): Socket | undefined {
    return this.live.get(id);
  }

  /** Every live socket (for details: everything a process owns). */
  liveSockets(): IterableIterator<Socket> {
    return this.live.values();
  }

  /** Subscribes to the engine first, then asks for its state: nothing falls between the two. */
  start(): void {
    this.detach = [
      this.api.onSnapshot((s) => this.replace(s)),
      this.api.onDelta((d) => this.delta(d)),
      this.api.onStatus((status) =>
        this.set({ status, pollingPaused: status.state === 'paused' ? true : status.state === 'ok' ? false : this.view.pollingPaused }),
      ),
      this.api.onHostNames((names) => this.set({ hostNames: { ...this.view.hostNames, ...names } })),
      this.api.onBaseline((baseline) => this.set({ baseline })),
      this.api.onAlert((a) => this.set({ alerts: withAlert(this.view.alerts, a) })),
      this.api.onAction((e) => this.set({ actions: [...this.view.actions.slice(-199), e] })),
      this.api.onConnection((connected) => {
        this.set({ connected });
        if (connected) void this.resync();
      }),
    ];
    this.timer = setInterval(() => this.expire(), 250);
  }

  stop(): void {
    for (const off of this.detach) off();
    this.detach = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async setPollInterval(ms: number): Promise<void> {
    const r = await this.api.setPollInterval(ms);
    if (r.ok) this.set({ intervalMs: r.value, error: null });
    else this.set({ error: r.message });
  }

  async togglePolling(): Promise<void> {
    const pause = !this.view.pollingPaused;
    const r = pause ? await this.api.pausePolling() : await this.api.resumePolling();
    if (r.ok) this.set({ pollingPaused: pause, error: null });
    else this.set({ error: r.message });
  }

  /** Asks the engine to end a process; the answer says what happened (never success without it gone). */
  async kill(pid: number, startTime: number | null, force: boolean): Promise<KillResult | { result: 'error'; reason: string }> {
    const r = await this.api.killProcess(pid, startTime, force);
    return r.ok ? r.value : { result: 'error', reason: r.message };
  }

  async closeConnection(id: string): Promise<CloseResult | { result: 'error'; reason: string }> {
    const r = await this.api.closeConnection(id);
    return r.ok ? r.value : { result: 'error', reason: r.message };
  }

  async markExpected(socketId: string): Promise<void> {
    const r = await this.api.markExpected(socketId);
    if (r.ok) this.set({ baseline: r.value, error: null });
    else this.set({ error: r.message });
  }

  async acceptAllListeners(): Promise<void> {
    const r = await this.api.acceptAllListeners();
    if (r.ok) this.set({ baseline: r.value, error: null });
    else this.set({ error: r.message });
  }

  async setReverseDns(on: boolean): Promise<void> {
    const r = await this.api.setReverseDns(on);
    if (r.ok) this.set({ reverseDns: r.value, error: null });
    else this.set({ error: r.message });
  }

  /** Freezes or unfreezes the view. Unfreezing shows everything that happened meanwhile, highlighted. */
  setFrozen(frozen: boolean): void {
    if (frozen === this.view.frozen) return;
    if (frozen) {
      this.set({ frozen: true, waiting: 0 });
      return;
    }
    this.catchUp();
    this.set({ frozen: false, waiting: 0 });
  }

  /** Ends highlights that are due; closed rows leave. Called by a timer; public for tests. */
  expire(): void {
    const now = this.now();
    let changed = false;
    for (const [id, row] of this.shown) {
      if (row.change === null || row.until > now) continue;
      changed = true;
      if (row.change === 'closed') this.shown.delete(id);
      else this.shown.set(id, { ...row, change: null });
    }
    if (changed) this.rowsChanged();
  }

  private async resync(): Promise<void> {
    if (this.resyncing) return;
    this.resyncing = true;
    try {
      const r = await this.api.getState();
      if (!r.ok) {
        this.set({ error: r.message });
        return;
      }
      const v = r.value;
      this.set({
        intervalMs: v.intervalMs,
        pollingPaused: v.paused,
        elevated: v.elevated,
        control: v.control,
        reverseDns: v.reverseDns,
        hostNames: { ...this.view.hostNames, ...v.hostNames },
        status: v.status ?? this.view.status,
      });
      if (v.snapshot && (v.snapshot.seq >= this.view.seq || !this.haveSnapshot)) this.replace(v.snapshot);
      const [b, a, l] = await Promise.all([this.api.getBaseline(), this.api.getAlerts(), this.api.getActionLog()]);
      if (b.ok) this.set({ baseline: b.value });
      if (a.ok) this.set({ alerts: a.value });
      if (l.ok) this.set({ actions: l.value });
    } finally {
      this.resyncing = false;
    }
  }

  /** A full snapshot: the first one is shown plain; a later one (reconnect, restart) is compared and highlighted. */
  private replace(s: Snapshot): void {
    this.live = new Map(s.sockets.map((x) => [x.id, x]));
    this.haveSnapshot = true;
    const later = this.pendingDeltas.filter((d) => d.seq > s.seq).sort((a, b) => a.seq - b.seq);
    this.pendingDeltas = [];
    this.set({ seq: s.seq, takenAt: s.takenAt, source: s.source });
    this.record(s.takenAt);
    if (this.firstLoad) {
      this.firstLoad = false;
      for (const x of s.sockets) this.shown.set(x.id, { socket: x, change: null, until: 0, firstSeen: s.takenAt });
      this.rowsChanged();
    } else if (!this.view.frozen) {
      this.catchUp();
    }
    for (const d of later) this.delta(d);
  }

  private delta(d: Delta): void {
    if (!this.haveSnapshot) {
      if (this.pendingDeltas.length < 100) this.pendingDeltas.push(d);
      return;
    }
    if (d.seq <= this.view.seq) return;
    if (d.seq !== this.view.seq + 1) {
      this.haveSnapshot = false;
      this.pendingDeltas = [d];
      void this.resync();
      return;
    }
    for (const id of d.removed) this.live.delete(id);
    for (const s of d.added) this.live.set(s.id, s);
    for (const s of d.changed) this.live.set(s.id, s);
    const count = d.added.length + d.removed.length + d.changed.length;
    this.record(d.takenAt);
    if (this.view.frozen) {
      this.set({ seq: d.seq, takenAt: d.takenAt, waiting: this.view.waiting + count });
      return;
    }
    if (count > 0) {
      const now = this.now();
      for (const id of d.removed) this.markClosed(id, now);
      for (const s of d.added) this.markNew(s, now);
      for (const s of d.changed) this.markChanged(s, now);
      this.rowsChanged();
    }
    this.set({ seq: d.seq, takenAt: d.takenAt });
  }

  private record(t: number): void {
    const last = this.view.history[this.view.history.length - 1];
    if (last && t - last.t < 1000) return;
    const counts: Partial<Record<string, number>> = {};
    for (const s of this.live.values()) counts[s.state] = (counts[s.state] ?? 0) + 1;
    const history = this.view.history.length >= HISTORY_POINTS ? this.view.history.slice(1 - HISTORY_POINTS) : [...this.view.history];
    history.push({ t, counts });
    this.set({ history });
  }

  /** Brings the shown rows to `live` by comparison (after a freeze or a resync). */
  private catchUp(): void {
    const now = this.now();
    for (const [id, row] of this.shown) if (!this.live.has(id) && row.change !== 'closed') this.markClosed(id, now);
    for (const s of this.live.values()) {
      const row = this.shown.get(s.id);
      if (!row || row.change === 'closed') this.markNew(s, now);
      else if (!sameSocket(row.socket, s)) this.markChanged(s, now);
      else if (row.socket !== s) this.shown.set(s.id, { ...row, socket: s });
    }
    this.rowsChanged();
  }

  private markNew(s: Socket, now: number): void {
    const old = this.shown.get(s.id);
    this.shown.set(s.id, { socket: s, change: 'new', until: now + HIGHLIGHT_MS.new, firstSeen: old && old.change !== 'closed' ? old.firstSeen : now });
  }

  private markChanged(s: Socket, now: number): void {
    const old = this.shown.get(s.id);
    if (!old) return this.markNew(s, now);
    // a socket still shown as new stays new (green), with the newer data
    const change = old.change === 'new' ? 'new' : 'changed';
    this.shown.set(s.id, { socket: s, change, until: Math.max(old.until, now + HIGHLIGHT_MS.changed), firstSeen: old.firstSeen });
  }

  private markClosed(id: string, now: number): void {
    const old = this.shown.get(id);
    if (!old) return;
    this.shown.set(id, { ...old, change: 'closed', until: now + HIGHLIGHT_MS.closed });
  }

  private rowsChanged(): void {
    this.set({ rows: [...this.shown.values()], rowsVersion: this.view.rowsVersion + 1 });
  }

  private set(patch: Partial<StoreView>): void {
    this.view = { ...this.view, ...patch, version: this.view.version + 1 };
    for (const l of [...this.listeners]) l();
  }
}

/** How many alerts the view keeps. */
export const MAX_ALERTS = 200;

/**
 * The alert list with one more: past MAX_ALERTS the oldest quiet alert goes first, so that a flood of
 * quiet ones (another user's decoys) never pushes out one that notified (a listener on all interfaces).
 */
export function withAlert(list: readonly Alert[], a: Alert): Alert[] {
  const next = [...list, a];
  if (next.length <= MAX_ALERTS) return next;
  const quiet = next.findIndex((x) => !x.notify);
  next.splice(quiet >= 0 ? quiet : 0, 1);
  return next;
}
