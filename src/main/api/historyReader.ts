import { statSync } from 'node:fs';
import type { ApiResult } from '../../shared/api';
import {
  bucketStarts,
  flowAsSocket,
  MAX_HISTORY_EVENTS,
  MAX_HISTORY_FLOWS,
  MAX_HISTORY_LISTENERS,
  parseHistoryQuery,
  timelineBucket,
  type FlowKey,
  type HistoryEvents,
  type HistoryFlows,
  type HistoryListeners,
  type HistoryRange,
  type HistoryRecording,
  type HistoryTimeline,
} from '../../shared/history';
import { matchesQuery } from '../../shared/query';
import type { LearnedContacts } from '../engine';
import { describeHolder, HistoryLock, HistoryStore, HOUR_MS, MAX_CONTACTS } from '../engine/history';

/**
 * The History view's read side: one database file (the per-user one, or `--db`), opened read-only on the first
 * question and kept open while it is the same file (a writer that moved a corrupt one aside and began another
 * is followed). Every answer is a value: no history yet, an unreadable or newer file, and a bad filter are
 * errors saying what to do, never exceptions into the transport. Answers are bounded (MAX_HISTORY_*), with a
 * `truncated` flag. It never writes, creates or moves the file; whoever created it disposes of it.
 */
export class HistoryReader {
  private store: HistoryStore | null = null;
  /** The file the open store reads (device and inode), to notice one put in its place. */
  private identity = '';

  /** `hostNames`: the names reverse DNS found (the live view's), for `host:` and free text to find them too. */
  constructor(
    readonly path: string,
    private readonly hostNames: () => Readonly<Record<string, string>> = () => ({}),
  ) {}

  /** Flows overlapping the range, busiest first, filtered by the filter language (fields a flow keeps). */
  flows(range: HistoryRange, query = ''): ApiResult<HistoryFlows> {
    const q = parseHistoryQuery(query);
    if (!q.ok) return { ok: false, code: 'bad-query', message: q.position === null ? q.message : `${q.message} (at character ${q.position + 1})` };
    return this.read((store) => {
      const all = store.flows(range);
      const filter = q.query;
      const names = this.hostNames();
      const ctx = { hostName: (a: string): string | undefined => (Object.hasOwn(names, a) ? names[a] : undefined) };
      const matched = filter === null ? all : all.filter((f) => matchesQuery(filter, flowAsSocket(f), ctx));
      return {
        db: store.path,
        flows: matched.slice(0, MAX_HISTORY_FLOWS),
        matched: matched.length,
        truncated: matched.length > MAX_HISTORY_FLOWS,
        recording: this.recording(),
      };
    });
  }

  /** The times a port listened that overlap the range (of this local port only, unless null), in start order. */
  listeners(range: HistoryRange, port: number | null = null): ApiResult<HistoryListeners> {
    return this.read((store) => {
      const spans = store.listeners(range).filter((l) => port === null || l.localPort === port);
      // the newest are the ones asked about ("when did this start"): keep the end of the list
      return {
        db: store.path,
        listeners: spans.slice(-MAX_HISTORY_LISTENERS),
        truncated: spans.length > MAX_HISTORY_LISTENERS,
        recording: this.recording(),
      };
    });
  }

  /**
   * What the history has learned each program contacts going out (at most MAX_CONTACTS), for first-contact
   * alerts in a Portwatch that reads a history another process records.
   */
  contacts(): ApiResult<LearnedContacts> {
    return this.read((store) => store.contacts(MAX_CONTACTS));
  }

  /** One flow's events in the range, oldest first. */
  events(key: FlowKey, range: HistoryRange): ApiResult<HistoryEvents> {
    return this.read((store) => {
      const rows = store.flowEvents(key, range, MAX_HISTORY_EVENTS + 1);
      return { events: rows.slice(0, MAX_HISTORY_EVENTS), truncated: rows.length > MAX_HISTORY_EVENTS };
    });
  }

  /**
   * Connections and bytes per bucket, every bucket of the range present (zero when nothing happened). Buckets
   * under an hour come from the raw events; when those are gone (older than their retention) but the hourly
   * flows hold the range, the answer is hourly.
   */
  timeline(range: HistoryRange, buckets: number): ApiResult<HistoryTimeline> {
    return this.read((store) => {
      const pick = timelineBucket(range, buckets);
      const answer = (bucketMs: number, source: 'flows' | 'events'): HistoryTimeline => {
        const starts = bucketStarts(range, bucketMs);
        const origin = starts[0] ?? range.since;
        const got = new Map(store.timeline(range, origin, bucketMs, source).map((p) => [p.at, p]));
        return { bucketMs, source, points: starts.map((at) => got.get(at) ?? { at, connections: 0, bytesIn: 0, bytesOut: 0 }) };
      };
      const first = answer(pick.bucketMs, pick.source);
      if (pick.source === 'flows' || first.points.some((p) => p.connections > 0 || p.bytesIn > 0 || p.bytesOut > 0)) return first;
      const hourly = answer(HOUR_MS, 'flows');
      return hourly.points.some((p) => p.connections > 0 || p.bytesIn > 0 || p.bytesOut > 0) ? hourly : first;
    });
  }

  /** Closes the database. Later questions open it again. */
  dispose(): void {
    this.store?.close();
    this.store = null;
    this.identity = '';
  }

  private recording(): HistoryRecording | null {
    const holder = HistoryLock.holder(`${this.path}.lock`);
    return holder === null ? null : { holder: describeHolder(holder) };
  }

  private read<T>(run: (store: HistoryStore) => T): ApiResult<T> {
    const opened = this.open();
    if (!opened.ok) return opened;
    try {
      return { ok: true, value: run(opened.value) };
    } catch (e) {
      // a file damaged under us, or replaced: the next question opens it again
      this.dispose();
      return { ok: false, code: 'history-unreadable', message: `cannot read the history ${this.path}: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  private open(): ApiResult<HistoryStore> {
    let identity = '';
    try {
      const st = statSync(this.path);
      identity = `${st.dev}:${st.ino}`;
    } catch {
      // missing: HistoryStore.open says so, in its words
    }
    if (this.store && identity === this.identity) return { ok: true, value: this.store };
    this.dispose();
    const r = HistoryStore.open(this.path, { mode: 'read' });
    if (!r.ok) {
      if (r.code === 'missing') {
        return { ok: false, code: 'no-history', message: `No history yet at ${this.path}: run portwatch record, or turn recording on.` };
      }
      return { ok: false, code: 'history-unreadable', message: r.message };
    }
    this.store = r.store;
    this.identity = identity;
    return { ok: true, value: r.store };
  }
}
