import { Worker } from 'node:worker_threads';
import type { ApiResult } from '../../shared/api';
import type { FlowKey, HistoryEvents, HistoryFlows, HistoryListeners, HistoryRange, HistoryTimeline } from '../../shared/history';
import { bundlePath, type LearnedContacts } from '../engine';

/** A question to the reader thread, and its answer. */
export type ReaderRequest = { id: number } & (
  | { method: 'flows'; range: HistoryRange; query: string; hostNames: Readonly<Record<string, string>> }
  | { method: 'listeners'; range: HistoryRange; port: number | null }
  | { method: 'events'; key: FlowKey; range: HistoryRange }
  | { method: 'timeline'; range: HistoryRange; buckets: number }
  | { method: 'contacts' }
  | { method: 'close' }
);
export interface ReaderResponse {
  id: number;
  result: ApiResult<unknown>;
}

type Question = ReaderRequest extends infer R ? (R extends { method: 'close' } ? never : Omit<R, 'id'>) : never;

/** A question not answered by then is given up (the thread is restarted): a value says so. */
export const READER_TIMEOUT_MS = 60_000;
/** How long dispose() lets the thread finish a question and close its database before it terminates it. */
const CLOSE_MS = 5000;

/**
 * The History view's reads, answered in a thread of its own (historyReaderMain.ts, the history-reader bundle):
 * started on the first question, restarted after it fails or stops answering, ended by dispose(). Every answer
 * is a value, the thread's failure included.
 */
export class HistoryThread {
  private worker: Worker | null = null;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: ApiResult<unknown>) => void; timer: ReturnType<typeof setTimeout> }>();
  private disposed = false;

  constructor(
    readonly path: string,
    private readonly hostNames: () => Readonly<Record<string, string>> = () => ({}),
    private readonly workerPath: string = bundlePath('history-reader'),
    private readonly timeoutMs = READER_TIMEOUT_MS,
  ) {}

  flows(range: HistoryRange, query: string): Promise<ApiResult<HistoryFlows>> {
    return this.ask({ method: 'flows', range, query, hostNames: this.hostNames() });
  }
  listeners(range: HistoryRange, port: number | null): Promise<ApiResult<HistoryListeners>> {
    return this.ask({ method: 'listeners', range, port });
  }
  events(key: FlowKey, range: HistoryRange): Promise<ApiResult<HistoryEvents>> {
    return this.ask({ method: 'events', key, range });
  }
  timeline(range: HistoryRange, buckets: number): Promise<ApiResult<HistoryTimeline>> {
    return this.ask({ method: 'timeline', range, buckets });
  }
  contacts(): Promise<ApiResult<LearnedContacts>> {
    return this.ask({ method: 'contacts' });
  }

  /**
   * Ends the thread; questions still open are answered `disconnected`. The thread is asked to close its database
   * and end by itself, and the promise says how it ended once it has (`closed`; `terminated` when it did not
   * within CLOSE_MS; `none`: never started). Terminated with the database open, libsql's finalizers run into the
   * termination and abort the whole process (a panic in its neon binding, SIGABRT): `serve` stopped by Ctrl-C
   * died so about once in 25 times on a loaded machine.
   */
  dispose(): Promise<'closed' | 'terminated' | 'none'> {
    this.disposed = true;
    const w = this.worker;
    this.worker = null;
    this.fail('Portwatch is shutting down', 'disconnected');
    if (!w) return Promise.resolve('none');
    return new Promise((resolve) => {
      let ended: 'closed' | 'terminated' = 'closed';
      const timer = setTimeout(() => {
        ended = 'terminated';
        void w.terminate();
      }, CLOSE_MS);
      w.once('exit', () => {
        clearTimeout(timer);
        resolve(ended);
      });
      w.postMessage({ id: 0, method: 'close' } satisfies ReaderRequest);
    });
  }

  // each question's answer is the type its method returns: the thread runs the same HistoryReader method
  private ask<T>(q: Question): Promise<ApiResult<T>> {
    if (this.disposed) return Promise.resolve({ ok: false, code: 'disconnected', message: 'Portwatch is shutting down' });
    const worker = this.start();
    const id = this.next++;
    return new Promise<ApiResult<T>>((resolve) => {
      const timer = setTimeout(() => {
        this.stop(`the history did not answer within ${Math.round(this.timeoutMs / 1000)} s: asked again, it starts over`, 'history-unreadable');
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (r: ApiResult<unknown>) => void, timer });
      worker.postMessage({ ...q, id } satisfies ReaderRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(this.workerPath, { workerData: this.path });
    w.unref();
    w.on('message', (m: ReaderResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      p.resolve(m.result);
    });
    w.on('error', (e) => this.gone(w, `the history reader failed: ${e.message}`));
    w.on('exit', (code) => this.gone(w, `the history reader stopped (exit code ${code})`));
    this.worker = w;
    return w;
  }

  private gone(w: Worker, message: string): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.fail(message, 'history-unreadable');
  }

  private stop(message: string, code: 'disconnected' | 'history-unreadable'): void {
    const w = this.worker;
    this.worker = null;
    if (w) void w.terminate();
    this.fail(message, code);
  }

  private fail(message: string, code: 'disconnected' | 'history-unreadable'): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.resolve({ ok: false, code, message });
    }
  }
}
