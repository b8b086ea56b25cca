import { RateWindow } from '../../shared/rateWindow';
import { bundlePath } from './bundles';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { MonitorStatus, Snapshot, Socket } from '../../shared/model';
import { applyDelta, indexSockets, snapshotOf, type SocketMap } from './diff';
import { Emitter } from './events';
import { DEFAULT_POLL_INTERVAL_MS } from '../../shared/polling';
import { checkInterval, countSockets, type MonitorEvents, type MonitorLike, type SocketCounts } from './monitor';
import type { RunResult } from './runCommand';
import type { SourceChoice } from './sources';
import { notStarted, parseWorkerMessage, type HostToWorker, type SiLauncher, type WorkerInit, type WorkerToHost } from './workerProtocol';

export interface MonitorHostOptions {
  /** The built worker script. Defaults to the worker bundle, bundlePath('worker') (out/node/worker.cjs). */
  workerPath?: string;
  intervalMs?: number;
  source?: SourceChoice;
  /** Delay before a crashed worker is restarted. */
  restartDelayMs?: number;
  /**
   * A worker silent this long while polling is taken for hung: it is ended and restarted. Only time the host
   * itself ran counts (see `watch`).
   */
  stallMs?: number;
  /** A monotonic clock in ms; performance.now() unless a test gives its own. */
  now?: () => number;
  /**
   * Runs systeminformation's helper for the worker, which then asks for it (`siRun`) instead of starting it as a
   * child of its own: the Electron main process gives one on utilityProcess (electron/siLauncher), since a
   * worker thread cannot start a Node process there once the RunAsNode fuse is off.
   */
  siLauncher?: SiLauncher;
}

/** Helpers running at once for the worker: a poll runs one job at a time; one more covers a job still ending
 * when its worker was just restarted. */
const MAX_SI_RUNNING = 2;

/** Restarts allowed per minute before the host gives up and stays in error. */
const MAX_RESTARTS_PER_MINUTE = 5;

/**
 * A watchdog tick counts at most this many of its periods as silence. A tick that comes later than that means the
 * host itself did not run (SIGSTOP, a suspended machine, a blocked event loop): the worker was frozen with it and
 * the gap is not its silence.
 */
const MAX_PERIODS_PER_TICK = 2;

/**
 * Runs the Monitor in a worker thread so that /proc walks never block the host's event loop, and mirrors its
 * state here (the snapshot plus every delta) so `getSnapshot()` answers without a round trip. A worker that
 * dies is restarted; the new one sends a fresh snapshot, which consumers take as a resynchronisation.
 */
export class MonitorHost implements MonitorLike {
  private readonly events = new Emitter<MonitorEvents>();
  private readonly workerPath: string;
  private readonly source: SourceChoice;
  private readonly restartDelayMs: number;
  private intervalMs: number;
  private worker: Worker | null = null;
  private paused = false;
  private stopping = false;
  private current: SocketMap | null = null;
  private meta: Omit<Snapshot, 'sockets'> | null = null;
  private status: MonitorStatus | null = null;
  private readonly restarts = new RateWindow(MAX_RESTARTS_PER_MINUTE, 60_000);
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly stallMs: number | null;
  private readonly now: () => number;
  /** How long the worker has been silent, counting only time the host ran. */
  private silentMs = 0;
  private lastTick = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private readonly siLauncher: SiLauncher | null;
  private siRunning = 0;

  constructor(opts: MonitorHostOptions = {}) {
    this.workerPath = opts.workerPath ?? bundlePath('worker');
    this.source = opts.source ?? 'auto';
    this.intervalMs = checkInterval(opts.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.restartDelayMs = opts.restartDelayMs ?? 1000;
    this.stallMs = opts.stallMs ?? null;
    this.now = opts.now ?? (() => performance.now());
    this.siLauncher = opts.siLauncher ?? null;
  }

  /** How long silence means hung: a few polls' worth, and never less than 15 s (a cold poll can be slow). */
  private stallLimit(): number {
    return this.stallMs ?? Math.max(15_000, 5 * this.intervalMs);
  }

  on<K extends keyof MonitorEvents>(event: K, handler: (value: MonitorEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }

  start(): void {
    if (this.worker || this.stopping) return;
    const init: WorkerInit = { intervalMs: this.intervalMs, source: this.source, ...(this.siLauncher ? { siViaHost: true } : {}) };
    const worker = new Worker(this.workerPath, { workerData: init });
    this.worker = worker;
    if (this.paused) this.post({ type: 'pause' });
    worker.on('message', (m: unknown) => this.receive(worker, m));
    worker.on('error', (e) => this.crashed(worker, e.message));
    worker.on('exit', (code) => this.crashed(worker, `monitor worker exited with code ${code}`));
    this.heard();
    if (!this.watchdog) this.watch();
  }

  /**
   * Restarts a worker that stays silent for the stall limit. Silence is measured on a monotonic clock and only
   * while the host runs: each tick adds the time since the previous one, but never more than MAX_PERIODS_PER_TICK
   * periods, so a host stopped or asleep for a minute wakes to a worker that is behind, not hung. A worker that
   * is really stuck stays silent tick after tick while the host runs, and is restarted.
   */
  private watch(): void {
    const period = Math.min(1000, this.stallLimit() / 4);
    this.lastTick = this.now();
    this.watchdog = setInterval(() => {
      const now = this.now();
      const ran = Math.min(now - this.lastTick, MAX_PERIODS_PER_TICK * period);
      this.lastTick = now;
      const w = this.worker;
      if (!w || this.paused || this.stopping) return;
      this.silentMs += Math.max(0, ran);
      if (this.silentMs < this.stallLimit()) return;
      // a poll stuck for good (a hung read): end that worker, whatever it is doing, and start afresh
      w.removeAllListeners();
      void w.terminate();
      this.crashed(w, `monitor worker stopped answering for ${Math.round(this.silentMs / 1000)} s`);
    }, period);
    this.watchdog.unref?.();
  }

  private heard(): void {
    this.silentMs = 0;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.post({ type: 'stop' });
    // A worker stuck in a poll does not get to answer: end it after a grace period.
    const timer = setTimeout(() => void worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
    this.worker = null;
  }

  pause(): void {
    this.paused = true;
    this.post({ type: 'pause' });
  }

  resume(): void {
    this.paused = false;
    this.heard();
    this.post({ type: 'resume' });
  }

  setIntervalMs(ms: number): void {
    this.intervalMs = checkInterval(ms);
    this.post({ type: 'setInterval', ms: this.intervalMs });
  }

  getIntervalMs(): number {
    return this.intervalMs;
  }

  isPaused(): boolean {
    return this.paused;
  }

  getSnapshot(): Snapshot | null {
    return this.current && this.meta ? snapshotOf(this.current, this.meta) : null;
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

  private post(m: HostToWorker): void {
    this.worker?.postMessage(m);
  }

  private receive(worker: Worker, raw: unknown): void {
    if (worker !== this.worker) return;
    const m = parseWorkerMessage(raw);
    if (m === null) {
      // a worker that breaks the protocol is a broken worker: a fresh one resynchronises the mirror
      const type = typeof raw === 'object' && raw !== null && 'type' in raw ? String(raw.type).slice(0, 40) : typeof raw;
      return this.fail(worker, `monitor worker sent a malformed message (${type})`);
    }
    this.heard();
    switch (m.type) {
      case 'snapshot': {
        const { sockets, ...meta } = m.snapshot;
        this.current = indexSockets(sockets);
        this.meta = meta;
        this.events.emit('snapshot', m.snapshot);
        break;
      }
      case 'delta':
        if (this.current && this.meta) {
          applyDelta(this.current, m.delta);
          this.meta = { ...this.meta, seq: m.delta.seq, takenAt: m.delta.takenAt };
        }
        this.events.emit('delta', m.delta);
        break;
      case 'status':
        this.status = m.status;
        this.events.emit('status', m.status);
        break;
      case 'fatal':
        this.fail(worker, m.message);
        break;
      case 'siRun':
        this.runSi(worker, m);
        break;
      case 'stopped':
        break;
    }
  }

  /** Ends a worker that is still running, and restarts it as after a crash. */
  private fail(worker: Worker, message: string): void {
    worker.removeAllListeners();
    void worker.terminate();
    this.crashed(worker, message);
  }

  /** Runs one job with the launcher and answers the worker that asked, if it is still the one running. */
  private runSi(worker: Worker, m: Extract<WorkerToHost, { type: 'siRun' }>): void {
    const reply = (result: RunResult): void => {
      if (worker === this.worker) worker.postMessage({ type: 'siResult', id: m.id, result } satisfies HostToWorker);
    };
    const launch = this.siLauncher;
    if (!launch) return reply(notStarted('the monitor host runs no helper (it was given no launcher)'));
    if (this.siRunning >= MAX_SI_RUNNING) return reply(notStarted(`${MAX_SI_RUNNING} helpers are running already`));
    this.siRunning++;
    let run: Promise<RunResult>;
    try {
      run = launch(m.job, m.timeoutMs);
    } catch (e) {
      run = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    void run
      .catch((e: unknown) => notStarted(e instanceof Error ? e.message : String(e)))
      .then((result) => {
        this.siRunning--;
        reply(result);
      });
  }

  private crashed(worker: Worker | null, message: string): void {
    if (this.stopping || worker !== this.worker) return;
    this.worker = null;
    worker?.removeAllListeners();
    // restarts are counted on the monotonic clock; failingSince is a date the UI shows
    const now = this.now();
    const giveUp = this.restarts.count(now) >= MAX_RESTARTS_PER_MINUTE;
    const prev = this.status;
    const streak = prev?.state === 'error' ? prev : null;
    this.status = {
      state: 'error',
      source: prev?.source ?? 'procfs',
      message: giveUp ? `${message}; gave up after ${MAX_RESTARTS_PER_MINUTE} restarts in a minute` : `${message}; restarting`,
      staleSince: this.meta?.takenAt ?? null,
      failingSince: streak ? streak.failingSince : Date.now(),
      failures: (streak?.failures ?? 0) + 1,
    };
    this.events.emit('status', this.status);
    if (giveUp) return;
    this.restarts.record(now);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.start();
    }, this.restartDelayMs);
  }
}
