import { Worker } from 'node:worker_threads';
import { bundlePath } from '../bundles';
import type { LockHolder } from './lock';
import { packBatch, type PackedBatch } from './rows';
import type { OpenOptions, Retention } from './store';
import { listenerKey, type HistoryBatch } from './tracker';

/**
 * The history's store in a thread of its own (writerMain.ts, the history-writer bundle): what a host that shows
 * a live view records through, so a poll's transaction (tens of milliseconds at 10,000 connections) never runs
 * on its event loop. The host keeps the tracker and posts each batch; the thread answers with the time each
 * write took. `open()` resolves once the database is open and locked, or with why it is not.
 */

export interface WriterInit {
  path: string;
  command: string;
  retention?: Partial<Retention>;
  onCorrupt?: OpenOptions['onCorrupt'];
}

export type HostToWriter = { type: 'batch'; batch: PackedBatch } | { type: 'close' };
export type WriterToHost =
  | { type: 'opened'; ok: true; path: string; notes: string[]; openListeners: string[]; contacts: LearnedContacts }
  | { type: 'opened'; ok: false; code: string; message: string; holder: LockHolder | null }
  | { type: 'written'; ms: number; events: number }
  | { type: 'failed'; message: string; code: string | null }
  | { type: 'closed' };

/** What the history has learned each program contacts (store.contacts), for first-contact alerts. */
export interface LearnedContacts {
  keys: string[];
  /** More than MAX_CONTACTS: the set is not complete. */
  truncated: boolean;
  /** Since when the history reaches back (its oldest flow); null: it holds none. */
  since: number | null;
}

/** How many learned contacts the writer hands over at most. */
export const MAX_CONTACTS = 200_000;

/** What a HistoryRecorder writes into: a HistoryStore in this thread (tests, the bench) or a HistoryWriter. */
export interface HistorySink {
  /** The listening ports the history has open, for the first snapshot. */
  openListenerKeys(): Set<string>;
  /** Writes one batch (now, or by posting it); the time it took this thread, ms. */
  write(batch: HistoryBatch): number;
  prune(): unknown;
}

export type WriterOpen =
  | { ok: true; writer: HistoryWriter; path: string; notes: string[]; contacts: LearnedContacts }
  | { ok: false; code: string; message: string; holder: LockHolder | null };

/** What a host hears of each write besides the failures' messages: for a recording's status. */
export interface WriterHooks {
  /** A batch was written (its events). */
  written?: (events: number) => void;
  /** A batch failed; `code` is SQLite's (SQLITE_FULL) when it gave one. */
  failed?: (code: string | null, message: string) => void;
  /** The thread ended without being closed. */
  stopped?: (message: string) => void;
}

export interface WriterStats {
  written: number;
  /** ms of the writer thread's transactions: the last, the slowest, the sum. */
  lastMs: number;
  maxMs: number;
  totalMs: number;
  failures: number;
  /** Events written. */
  events: number;
}

export class HistoryWriter implements HistorySink {
  readonly stats: WriterStats = { written: 0, lastMs: 0, maxMs: 0, totalMs: 0, failures: 0, events: 0 };
  private readonly listeners: Set<string>;
  private closing: Promise<void> | null = null;
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    openListeners: readonly string[],
    private readonly onError: (message: string) => void,
    private readonly hooks: WriterHooks,
  ) {
    this.listeners = new Set(openListeners);
    worker.on('message', (m: WriterToHost) => {
      if (m.type === 'written') {
        this.stats.written++;
        this.stats.events += m.events;
        this.stats.lastMs = m.ms;
        this.stats.maxMs = Math.max(this.stats.maxMs, m.ms);
        this.stats.totalMs += m.ms;
        this.hooks.written?.(m.events);
      } else if (m.type === 'failed') {
        this.stats.failures++;
        this.onError(`could not write to the history: ${m.message}`);
        this.hooks.failed?.(m.code, m.message);
      }
    });
    worker.on('error', (e) => this.onError(`the history writer failed: ${e.message}`));
    worker.on('exit', (code) => {
      this.exited = true;
      if (this.closing) return;
      const message = `the history writer stopped (exit code ${code}): nothing more is recorded`;
      this.onError(message);
      this.hooks.stopped?.(message);
    });
  }

  /** Starts the writer thread and opens the database in it. */
  static open(
    init: WriterInit,
    onError: (message: string) => void = () => {},
    workerPath: string = bundlePath('history-writer'),
    hooks: WriterHooks = {},
  ): Promise<WriterOpen> {
    const worker = new Worker(workerPath, { workerData: init });
    return new Promise((resolve) => {
      const fail = (message: string): void => {
        void worker.terminate();
        resolve({ ok: false, code: 'writer', message, holder: null });
      };
      worker.once('error', (e) => fail(`the history writer failed: ${e.message}`));
      worker.once('exit', (code) => fail(`the history writer exited with code ${code}`));
      worker.once('message', (m: WriterToHost) => {
        worker.removeAllListeners('error');
        worker.removeAllListeners('exit');
        if (m.type !== 'opened') return fail(`the history writer said ${m.type} before it opened`);
        if (!m.ok) {
          void worker.terminate();
          return resolve({ ok: false, code: m.code, message: m.message, holder: m.holder });
        }
        resolve({ ok: true, writer: new HistoryWriter(worker, m.openListeners, onError, hooks), path: m.path, notes: m.notes, contacts: m.contacts });
      });
    });
  }

  openListenerKeys(): Set<string> {
    return new Set(this.listeners);
  }

  /** Posts the batch, its events as rows (packBatch); returns at once (0 ms of the writer's time on this thread). */
  write(batch: HistoryBatch): number {
    if (this.closing || this.exited) return 0;
    for (const e of batch.events) {
      if (e.kind === 'listen') this.listeners.add(listenerKey(e));
      else if (e.kind === 'unlisten') this.listeners.delete(listenerKey(e));
    }
    this.worker.postMessage({ type: 'batch', batch: packBatch(batch) } satisfies HostToWriter);
    return 0;
  }

  /** The thread prunes after each write. */
  prune(): void {}

  /** Writes what was posted (messages are handled in order), closes the database, releases the lock, ends the thread. */
  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    this.closing ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.on('message', (m: WriterToHost) => {
        if (m.type === 'closed') void this.worker.terminate();
      });
      this.worker.postMessage({ type: 'close' } satisfies HostToWriter);
    });
    return this.closing;
  }
}
