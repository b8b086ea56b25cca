import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';

/**
 * node:worker_threads, required when a thread is first started: `list --listen` starts none, and loading it
 * costs a few milliseconds of every start of the CLI.
 */
function workerThreads(): typeof import('node:worker_threads') {
  return createRequire(__filename)('node:worker_threads') as typeof import('node:worker_threads');
}

/**
 * A helper thread that serves a caller through shared memory (TableStream, DumpStream): started on first use,
 * never keeping the process alive, and given up for good once it dies or stops answering: doing the work
 * in-thread is correct, only slower.
 */
export class HelperThread {
  private worker: Worker | null = null;
  private broken = false;

  /** `main`: the thread's whole program, self-contained (it is handed over as source text). */
  constructor(
    private readonly main: () => void,
    private readonly workerData: unknown,
  ) {}

  /** Whether it can serve (it has not died or stalled). */
  get usable(): boolean {
    return !this.broken;
  }

  /** Starts it unless it runs or was given up; false when it cannot serve. */
  start(): boolean {
    if (this.worker) return true;
    if (this.broken) return false;
    try {
      const { Worker } = workerThreads();
      this.worker = new Worker(`(${this.main.toString()})()`, { eval: true, workerData: this.workerData });
      this.worker.unref();
      this.worker.once('error', () => this.giveUp());
      this.worker.once('exit', () => this.giveUp());
      return true;
    } catch {
      this.broken = true;
      return false;
    }
  }

  /** Ends the thread; a later start() begins another. */
  close(): void {
    const worker = this.worker;
    this.worker = null;
    worker?.removeAllListeners();
    worker?.on('error', () => undefined); // nothing more to hear from it
    void worker?.terminate();
  }

  /** For good: it died, or the caller waited too long for it. */
  giveUp(): void {
    this.broken = true;
    this.close();
  }
}
