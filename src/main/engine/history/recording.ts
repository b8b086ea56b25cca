import type { MonitorLike } from '../monitor';
import type { RecordingHolder, RecordingPause, RecordingStatus } from '../../../shared/recording';
import { HistoryLock } from './lock';
import { HistoryRecorder } from './recorder';
import type { Retention } from './store';
import { HistoryWriter, type LearnedContacts, type WriterOpen } from './writer';

/**
 * Recording beside a live view: what the desktop app and `serve` run (`record` drives the writer itself). It
 * owns a HistoryWriter (the store in its own thread) and a HistoryRecorder on the monitor, and says what it is
 * doing as a RecordingStatus. It never holds up the monitor or its other listeners: opening happens in the
 * writer's thread, batches are posted, failures become a status.
 *   - Another process holds the lock: paused `locked`, naming it; looked at again every `retryMs` (a cheap
 *     flock test on this thread, no thread started) and recording starts when the holder is gone.
 *   - A database that cannot be read, or is from a newer Portwatch, or a path that is not safe: paused, and
 *     the file is left byte for byte as it is (the writer opens with onCorrupt 'refuse').
 *   - A full disk: each poll's write fails (nothing half-written: one transaction per poll) and the status is
 *     `disk-full`; the first write that succeeds again puts it back to `recording`.
 * No libsql here: this module is in the engine's public surface, and libsql loads in the writer thread only.
 */

export interface RecordingOptions {
  /** The history database. */
  path: string;
  /** Who records, for the lock file (`portwatch serve`), which a second Portwatch shows. */
  command: string;
  /** Recording on at start (the setting). */
  enabled: boolean;
  onStatus?: (s: RecordingStatus) => void;
  /** Problems for a log (a write failed), once per kind of failure. */
  onError?: (message: string) => void;
  /** The history-writer bundle (tests). */
  writerPath?: string;
  retention?: Partial<Retention>;
  /** Each time the database opens: what it has learned each program contacts (first-contact alerts). */
  onContacts?: (c: LearnedContacts) => void;
  /** How often a locked history is looked at again (ms). */
  retryMs?: number;
  now?: () => number;
}

/** Open failures (store.ts OpenFailure codes and the writer's own) as pause reasons. */
function pauseOf(code: string): RecordingPause {
  switch (code) {
    case 'locked':
    case 'corrupt':
    case 'newer':
    case 'unsafe':
      return code;
    default:
      return 'failed';
  }
}

const isFull = (code: string | null, message: string): boolean => code === 'SQLITE_FULL' || /disk is full|ENOSPC|no space left/i.test(message);
const isCorrupt = (code: string | null): boolean => code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB';

/** How often, at most, a recording's growing event count is announced. */
const COUNT_EVERY_MS = 10_000;

export class HistoryRecording {
  private statusNow: RecordingStatus;
  private enabled: boolean;
  private writer: HistoryWriter | null = null;
  private recorder: HistoryRecorder | null = null;
  /** Bumped by every stop: an open still in flight from before is closed when it lands. */
  private generation = 0;
  private opening: Promise<void> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private closing: Promise<void> = Promise.resolve();
  private events = 0;
  private disposed = false;
  private readonly now: () => number;
  private lastError = '';
  private countedAt = 0;

  constructor(
    private readonly monitor: Pick<MonitorLike, 'on' | 'getSnapshot'>,
    private readonly opts: RecordingOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.enabled = opts.enabled;
    this.statusNow = { state: 'off', path: opts.path, eventsWritten: 0 };
    if (this.enabled) this.start();
  }

  status(): RecordingStatus {
    return this.statusNow;
  }

  /** The setting: on starts recording (or tries to), off stops it and releases the database. */
  setEnabled(on: boolean): RecordingStatus {
    if (this.disposed || on === this.enabled) return this.statusNow;
    this.enabled = on;
    if (on) this.start();
    else {
      this.stop();
      this.set({ state: 'off', path: this.opts.path, eventsWritten: this.events });
    }
    return this.statusNow;
  }

  /** Stops recording, writes what is queued, closes the database and releases its lock. */
  async dispose(): Promise<void> {
    if (!this.disposed) {
      this.disposed = true;
      this.stop();
    }
    await this.closing;
  }

  private start(): void {
    if (this.disposed || !this.enabled || this.writer || this.opening) return;
    this.clearRetry();
    // someone else records: say who without starting a thread (the writer would find the same)
    const holder = HistoryLock.holder(`${this.opts.path}.lock`);
    if (holder !== null && holder !== 'unknown') {
      this.pause('locked', `another Portwatch is recording into this history`, holder);
      this.scheduleRetry();
      return;
    }
    const generation = this.generation;
    this.set({ state: 'starting', path: this.opts.path, eventsWritten: this.events });
    const opened = HistoryWriter.open(
      { path: this.opts.path, command: this.opts.command, retention: this.opts.retention, onCorrupt: 'refuse' },
      (m) => this.report(m),
      this.opts.writerPath,
      {
        written: (n) => this.written(generation, n),
        failed: (code, message) => this.failed(generation, code, message),
        stopped: (message) => this.stopped(generation, message),
      },
    );
    this.opening = opened.then((r) => this.opened(generation, r));
  }

  private opened(generation: number, r: WriterOpen): void {
    this.opening = null;
    if (generation !== this.generation || !this.enabled || this.disposed) {
      // turned off (or disposed) while it opened
      if (r.ok) this.closing = this.closing.then(() => r.writer.close());
      return;
    }
    if (!r.ok) {
      this.pause(pauseOf(r.code), r.message, r.holder);
      if (r.code === 'locked') this.scheduleRetry();
      return;
    }
    for (const note of r.notes) this.report(note);
    this.opts.onContacts?.(r.contacts);
    this.writer = r.writer;
    this.recorder = new HistoryRecorder(this.monitor, r.writer, (m) => this.report(m));
    const snapshot = this.monitor.getSnapshot();
    if (snapshot) this.recorder.begin(snapshot);
    this.set({ state: 'recording', path: this.opts.path, eventsWritten: this.events, since: this.now() });
  }

  private written(generation: number, n: number): void {
    if (generation !== this.generation) return;
    this.events += n;
    // a write that succeeds again ends a pause of the writes (a full disk, an I/O error)
    if (this.statusNow.state === 'paused' && (this.statusNow.reason === 'disk-full' || this.statusNow.reason === 'failed')) {
      this.lastError = '';
      this.set({ state: 'recording', path: this.opts.path, eventsWritten: this.events, since: this.now() });
    } else if (this.statusNow.state === 'recording') {
      // the count goes out with the next status, or every COUNT_EVERY_MS: not one message per poll to every client
      const due = this.now() - this.countedAt >= COUNT_EVERY_MS;
      this.statusNow = { ...this.statusNow, eventsWritten: this.events };
      if (due) this.set(this.statusNow);
    }
  }

  private failed(generation: number, code: string | null, message: string): void {
    if (generation !== this.generation) return;
    if (isCorrupt(code)) {
      // found damaged only now: write nothing more into it
      this.stop();
      this.pause('corrupt', `${this.opts.path} is damaged (${message}); it is left as it is`, null);
    } else if (isFull(code, message)) {
      if (this.statusNow.state !== 'paused' || this.statusNow.reason !== 'disk-full') {
        this.pause('disk-full', `the disk holding ${this.opts.path} is full (${message})`, null);
      }
    } else if (this.statusNow.state !== 'paused') this.pause('failed', `could not write to ${this.opts.path}: ${message}`, null);
  }

  private stopped(generation: number, message: string): void {
    if (generation !== this.generation) return;
    this.recorder?.dispose();
    this.recorder = null;
    this.writer = null;
    this.pause('failed', message, null);
  }

  /** Ends the recorder and the writer (closed in the background, `closing` awaits it) and any retry. */
  private stop(): void {
    this.generation++;
    this.clearRetry();
    const recorder = this.recorder;
    const writer = this.writer;
    this.recorder = null;
    this.writer = null;
    recorder?.dispose();
    if (writer) this.closing = this.closing.then(() => writer.close());
    const opening = this.opening;
    if (opening) this.closing = this.closing.then(() => opening);
  }

  private scheduleRetry(): void {
    if (this.disposed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.enabled && !this.writer && !this.opening) this.start();
    }, this.opts.retryMs ?? 15_000);
    this.retry.unref?.();
  }

  private clearRetry(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
  }

  private pause(reason: RecordingPause, message: string, holder: RecordingHolder | null): void {
    const same =
      this.statusNow.state === 'paused' && this.statusNow.reason === reason && this.statusNow.message === message && this.statusNow.holder?.pid === holder?.pid;
    if (same) return;
    this.set({ state: 'paused', path: this.opts.path, eventsWritten: this.events, reason, message, holder, since: this.now() });
  }

  private set(s: RecordingStatus): void {
    this.statusNow = s;
    this.countedAt = this.now();
    this.opts.onStatus?.(s);
  }

  private report(message: string): void {
    if (message === this.lastError) return;
    this.lastError = message;
    this.opts.onError?.(message);
  }
}
