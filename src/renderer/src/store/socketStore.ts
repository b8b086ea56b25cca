import type { PortwatchApi } from '../../../shared/api';
import type { Delta, MonitorStatus, Snapshot, Socket, SourceName } from '../../../shared/model';

/** What the UI renders from: replaced (never mutated) on every change, so React can compare by reference. */
export interface StoreView {
  version: number;
  sockets: ReadonlyMap<string, Socket>;
  seq: number;
  takenAt: number | null;
  source: SourceName | null;
  status: MonitorStatus | null;
  connected: boolean;
  intervalMs: number | null;
  paused: boolean;
  elevated: boolean;
  /** An action that failed, to show once. */
  error: string | null;
}

const EMPTY: StoreView = {
  version: 0,
  sockets: new Map(),
  seq: 0,
  takenAt: null,
  source: null,
  status: null,
  connected: false,
  intervalMs: null,
  paused: false,
  elevated: false,
  error: null,
};

/**
 * The renderer's only state of the engine: a snapshot kept current by deltas, outside React (read through
 * useSyncExternalStore). Deltas are applied in `seq` order; a gap, or a delta before the first snapshot
 * arrives, is handled by asking for the state again, never by guessing.
 */
export class SocketStore {
  private view: StoreView = EMPTY;
  private readonly listeners = new Set<() => void>();
  private pendingDeltas: Delta[] = [];
  private haveSnapshot = false;
  private resyncing = false;
  private detach: Array<() => void> = [];

  constructor(private readonly api: PortwatchApi) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getView = (): StoreView => this.view;

  /** Subscribes to the engine first, then asks for its state: nothing falls between the two. */
  start(): void {
    this.detach = [
      this.api.onSnapshot((s) => this.replace(s)),
      this.api.onDelta((d) => this.delta(d)),
      this.api.onStatus((status) => this.set({ status, paused: status.state === 'paused' ? true : status.state === 'ok' ? false : this.view.paused })),
      this.api.onConnection((connected) => {
        this.set({ connected });
        if (connected) void this.resync();
      }),
    ];
  }

  stop(): void {
    for (const off of this.detach) off();
    this.detach = [];
  }

  async setIntervalMs(ms: number): Promise<void> {
    const r = await this.api.setInterval(ms);
    if (r.ok) this.set({ intervalMs: r.value, error: null });
    else this.set({ error: r.message });
  }

  async togglePause(): Promise<void> {
    const pause = !this.view.paused;
    const r = pause ? await this.api.pause() : await this.api.resume();
    if (r.ok) this.set({ paused: pause, error: null });
    else this.set({ error: r.message });
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
      this.set({ intervalMs: r.value.intervalMs, paused: r.value.paused, elevated: r.value.elevated, status: r.value.status ?? this.view.status });
      if (r.value.snapshot && r.value.snapshot.seq >= this.view.seq) this.replace(r.value.snapshot);
    } finally {
      this.resyncing = false;
    }
  }

  private replace(s: Snapshot): void {
    const sockets = new Map<string, Socket>();
    for (const x of s.sockets) sockets.set(x.id, x);
    this.haveSnapshot = true;
    const later = this.pendingDeltas.filter((d) => d.seq > s.seq).sort((a, b) => a.seq - b.seq);
    this.pendingDeltas = [];
    this.set({ sockets, seq: s.seq, takenAt: s.takenAt, source: s.source });
    for (const d of later) this.delta(d);
  }

  private delta(d: Delta): void {
    if (!this.haveSnapshot) {
      if (this.pendingDeltas.length < 100) this.pendingDeltas.push(d);
      return;
    }
    if (d.seq <= this.view.seq) return; // already part of the snapshot
    if (d.seq !== this.view.seq + 1) {
      // a gap: deltas were lost (a reconnect, a restarted engine); start again from the engine's state
      this.haveSnapshot = false;
      this.pendingDeltas = [d];
      void this.resync();
      return;
    }
    if (d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0) {
      this.set({ seq: d.seq, takenAt: d.takenAt });
      return;
    }
    const sockets = new Map(this.view.sockets);
    for (const id of d.removed) sockets.delete(id);
    for (const s of d.added) sockets.set(s.id, s);
    for (const s of d.changed) sockets.set(s.id, s);
    this.set({ sockets, seq: d.seq, takenAt: d.takenAt });
  }

  private set(patch: Partial<StoreView>): void {
    this.view = { ...this.view, ...patch, version: this.view.version + 1 };
    for (const l of [...this.listeners]) l();
  }
}
