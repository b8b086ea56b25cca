import type { Delta, Snapshot } from '../../../shared/model';
import type { MonitorEvents } from '../monitor';
import { HistoryTracker, type HistoryBatch } from './tracker';
import type { HistorySink } from './writer';

/** What the recorder listens to: a Monitor or a MonitorHost. */
export interface DeltaSource {
  on<K extends keyof MonitorEvents>(event: K, handler: (value: MonitorEvents[K]) => void): () => void;
}

export interface WriteStats {
  batches: number;
  /** Milliseconds of the last batch's transaction, and the slowest. */
  lastMs: number;
  maxMs: number;
  totalMs: number;
  /** Write failures (a full disk, an I/O error), the last one's message. */
  failures: number;
  lastError: string | null;
}

/**
 * Records a monitor into a history: each snapshot or delta becomes a batch (HistoryTracker), queued and handed
 * to the sink on a later turn of the event loop (setImmediate), so the delta reaches every other listener (a
 * live view) first and the poll itself, which runs in the monitor's worker, never waits for a write. The sink is
 * a HistoryWriter (the store in a thread of its own: what `record` uses) or a HistoryStore in this thread (one
 * transaction per batch, then a small step of pruning). A failing write is counted and reported (`onError`), and
 * the batch is dropped: the live view keeps going.
 */
export class HistoryRecorder {
  private readonly tracker = new HistoryTracker();
  private queue: HistoryBatch[] = [];
  private scheduled: ReturnType<typeof setImmediate> | null = null;
  private readonly unsubscribe: Array<() => void>;
  private disposed = false;
  readonly stats: WriteStats = { batches: 0, lastMs: 0, maxMs: 0, totalMs: 0, failures: 0, lastError: null };

  constructor(
    source: DeltaSource,
    private readonly store: HistorySink,
    private readonly onError: (message: string) => void = () => {},
  ) {
    this.unsubscribe = [source.on('snapshot', (s) => this.snapshot(s)), source.on('delta', (d) => this.delta(d))];
  }

  /**
   * Starts from the monitor's current state: for a recorder created after the monitor's first snapshot (the
   * desktop app and `serve` start recording once the database is open, or again after it was off).
   */
  begin(s: Snapshot): void {
    this.snapshot(s);
  }

  private snapshot(s: Snapshot): void {
    // a snapshot after the first is the worker's resynchronisation (a restart): what is queued goes first
    this.flushNow();
    this.enqueue(this.tracker.snapshot(s, this.store.openListenerKeys()));
  }

  private delta(d: Delta): void {
    this.enqueue(this.tracker.delta(d));
  }

  private enqueue(batch: HistoryBatch): void {
    if (this.disposed || (batch.events.length === 0 && batch.flows.length === 0)) return;
    this.queue.push(batch);
    this.scheduled ??= setImmediate(() => {
      this.scheduled = null;
      this.flushNow();
    });
  }

  /** Writes what is queued, now. */
  flushNow(): void {
    const batches = this.queue;
    this.queue = [];
    for (const b of batches) {
      try {
        const ms = this.store.write(b);
        this.stats.batches++;
        this.stats.lastMs = ms;
        this.stats.maxMs = Math.max(this.stats.maxMs, ms);
        this.stats.totalMs += ms;
      } catch (e) {
        this.stats.failures++;
        this.stats.lastError = (e as Error).message;
        this.onError(`could not write to the history: ${(e as Error).message}`);
      }
    }
    if (batches.length === 0) return;
    try {
      this.store.prune();
    } catch (e) {
      this.onError(`could not prune the history: ${(e as Error).message}`);
    }
  }

  /** Stops listening and writes everything left, the connections still waiting for a closed record included. */
  dispose(): void {
    if (this.disposed) return;
    for (const u of this.unsubscribe) u();
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const last = this.tracker.flush();
    if (last.events.length > 0 || last.flows.length > 0) this.queue.push(last);
    this.flushNow();
    this.disposed = true;
  }
}
