import Database from 'libsql';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FlowKey, HistoryFlow, HistoryFlowEvent, HistoryListener, HistoryRange, TimelinePoint } from '../../../shared/history';
import type { Direction, Protocol } from '../../../shared/model';
import { checkHistoryPath, looksLikeSqlite, moveAside } from './files';
import { HistoryLock, type LockHolder } from './lock';
import { MIGRATIONS, SCHEMA_VERSION } from './schema';
import { EVENT_ROW_COLUMNS, EVENT_ROW_WIDTH, packBatch, type EventRow, type PackedBatch } from './rows';
import { contactKey, hourOf, listenerKey, type FlowIncrement, type HistoryBatch, type HistoryEvent } from './tracker';

/**
 * Rows per INSERT: libsql's cost is per call (about 3 µs) and per bound value, so a poll's events go in
 * statements of 64 rows, the rest in 8s and ones (three statements prepared once, at most 1,280 values each).
 */
const INSERT_CHUNKS = [64, 8, 1] as const;

/**
 * The history database (SQLite through libsql, N-API: one binary for Node and Electron): opened for writing by
 * one recorder at a time (HistoryLock beside it), for reading by anyone else at the same time (WAL: readers never
 * wait for the writer, the writer never for them). Every poll's batch is one transaction. Pruning deletes in
 * small batches (`batchRows` per table per call) so that no call holds the database for long; the recorder calls
 * it between polls. The clock is injected, for retention tests.
 */

export interface Retention {
  /** Raw events older than this go (default 7 days). */
  eventsMs: number;
  /** Hourly flows and listener spans that ended longer ago go (default a year). */
  flowsMs: number;
  /** Above this, the oldest events, then the oldest flows, go whatever their age (default 1 GiB). */
  maxBytes: number;
  /** Rows deleted per table per prune() call. */
  batchRows: number;
}

export const DAY_MS = 86_400_000;
export const DEFAULT_RETENTION: Retention = { eventsMs: 7 * DAY_MS, flowsMs: 365 * DAY_MS, maxBytes: 1 << 30, batchRows: 2000 };

/** A flow summed over a range: what a poll's increments hold, without their hour. */
export type FlowRow = HistoryFlow;
export type ListenerSpan = HistoryListener;
export type { FlowKey };
/** One event of a flow's connections. */
export type FlowEventRow = HistoryFlowEvent;
/** An event as stored: a flow's, or a listener's (listen, unlisten). */
export type StoredEvent = Omit<HistoryFlowEvent, 'kind'> & { kind: HistoryEvent['kind'] };
/** Connections and bytes in one bucket of a timeline. */
export type TimelineRow = TimelinePoint;
export type TimeRange = HistoryRange;

export type OpenFailure = { ok: false; code: 'unsafe' | 'missing' | 'corrupt' | 'newer' | 'older' | 'locked'; message: string; holder?: LockHolder | null };
export type OpenResult = { ok: true; store: HistoryStore; notes: string[] } | OpenFailure;

export interface OpenOptions {
  /** write: take the lock, create and migrate; read: open what is there, never create or change its schema. */
  mode: 'write' | 'read';
  /** Who writes, for the lock file (`portwatch record --db x`). */
  command?: string;
  retention?: Partial<Retention>;
  now?: () => number;
  /**
   * What a writer does with a database it cannot read: move it aside and start a new one (`record`), or refuse,
   * leaving it byte for byte as it is (the desktop app and `serve`, which record only on the side). Default move-aside.
   */
  onCorrupt?: 'move-aside' | 'refuse';
}

type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

const EVENT_COLUMNS = 'at, kind, socket_id, local_address, local_port, remote_port, pid, name, bytes_in, bytes_out, duration_ms, note';

function eventOf(r: Row): StoredEvent {
  return {
    at: num(r.at),
    kind: str(r.kind) as HistoryEvent['kind'],
    socketId: str(r.socket_id),
    localAddress: str(r.local_address),
    localPort: num(r.local_port),
    remotePort: numOrNull(r.remote_port),
    pid: numOrNull(r.pid),
    name: strOrNull(r.name),
    bytesIn: numOrNull(r.bytes_in),
    bytesOut: numOrNull(r.bytes_out),
    durationMs: numOrNull(r.duration_ms),
    note: strOrNull(r.note),
  };
}

function isCorruption(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

export class HistoryStore {
  readonly retention: Retention;
  private readonly now: () => number;
  private readonly insertEvents: ReadonlyMap<number, Database.Statement>;
  private readonly upsertKey;
  private readonly upsertHour;
  private readonly startListener;
  private readonly stopListener;
  /** Statements run after every batch (pruning, the size), prepared once. */
  private readonly prepared = new Map<string, Database.Statement>();
  private closed = false;
  /** The latest event time written: after a clock stepped back (also across a restart) no event is stamped earlier. */
  private lastAt: number;

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly lock: HistoryLock | null,
    opts: OpenOptions,
  ) {
    this.retention = { ...DEFAULT_RETENTION, ...opts.retention };
    this.now = opts.now ?? Date.now;
    const values = `(${new Array<string>(EVENT_ROW_WIDTH).fill('?').join(',')})`;
    this.insertEvents = new Map(
      INSERT_CHUNKS.map((n) => [n, db.prepare(`INSERT INTO events (${EVENT_ROW_COLUMNS}) VALUES ${new Array<string>(n).fill(values).join(',')}`)]),
    );
    this.upsertKey = db.prepare(
      `INSERT INTO flow_keys (program, name, remote_address, port, protocol, direction, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?)
       ON CONFLICT (program, remote_address, port, protocol, direction) DO UPDATE SET
         name = excluded.name, first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)
       RETURNING id`,
    );
    this.upsertHour = db.prepare(
      `INSERT INTO flow_hours (hour, flow, opened, closed, bytes_in, bytes_out, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?)
       ON CONFLICT (hour, flow) DO UPDATE SET
         opened = opened + excluded.opened, closed = closed + excluded.closed,
         bytes_in = bytes_in + excluded.bytes_in, bytes_out = bytes_out + excluded.bytes_out,
         first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`,
    );
    this.startListener = db.prepare(
      `INSERT INTO listeners (key, protocol, local_address, local_port, netns, pid, name, exe, user, started_at) VALUES (?,?,?,?,?,?,?,?,?,?)`,
    );
    this.stopListener = db.prepare(`UPDATE listeners SET stopped_at = ?, stop_note = ? WHERE key = ? AND stopped_at IS NULL`);
    this.lastAt = num((db.prepare('SELECT max(at) AS at FROM events').get() as Row).at);
  }

  /**
   * Opens the database at `path`. For writing: checks the files (files.ts), creates the directory,
   * takes the lock, and moves a corrupt database aside (with a note saying where) to start a new one. For
   * reading: refuses a missing, corrupt or newer database and changes nothing.
   */
  static open(path: string, opts: OpenOptions): OpenResult {
    const file = resolve(path);
    const write = opts.mode === 'write';
    if (!write && !existsSync(dirname(file))) return { ok: false, code: 'missing', message: `there is no history at ${file} yet: portwatch record writes it` };
    const check = checkHistoryPath(file, write);
    if (!check.ok) return { ok: false, code: 'unsafe', message: check.message };
    if (!write && !check.exists) return { ok: false, code: 'missing', message: `there is no history at ${file} yet: portwatch record writes it` };
    let lock: HistoryLock | null = null;
    if (write) {
      const got = HistoryLock.acquire(`${file}.lock`, opts.command ?? 'portwatch', opts.now);
      if (!got.ok) return { ok: false, code: 'locked', message: `cannot record into ${file}: ${got.message}`, holder: got.holder };
      lock = got.lock;
    }
    const notes: string[] = [];
    const fail = (f: OpenFailure): OpenFailure => {
      lock?.release();
      return f;
    };
    const corrupt = (): OpenFailure | null => {
      if (!write || opts.onCorrupt === 'refuse')
        return { ok: false, code: 'corrupt', message: `${file} is not a readable history database (corrupt, or not SQLite); it is left as it is` };
      const aside = moveAside(file, new Date(opts.now?.() ?? Date.now()));
      notes.push(`${file} was not a readable history database (corrupt, or not SQLite): moved it aside to ${aside} and started a new one`);
      return null;
    };
    try {
      if (check.exists && !looksLikeSqlite(file)) {
        const f = corrupt();
        if (f) return fail(f);
      }
      let db: Database.Database;
      try {
        db = HistoryStore.connect(file, write);
      } catch (e) {
        if (!isCorruption(e)) throw e;
        const f = corrupt();
        if (f) return fail(f);
        db = HistoryStore.connect(file, write);
      }
      const version = num((db.prepare('PRAGMA user_version').get() as Row).user_version);
      if (version > SCHEMA_VERSION) {
        db.close();
        return fail({
          ok: false,
          code: 'newer',
          message: `${file} was written by a newer Portwatch (schema ${version}; this one knows ${SCHEMA_VERSION}): it is left as it is`,
        });
      }
      if (version < SCHEMA_VERSION) {
        if (!write) {
          db.close();
          // a reader never changes the file: the next recording migrates it
          return fail(
            version === 0
              ? { ok: false, code: 'missing', message: `${file} holds no history yet: portwatch record writes it` }
              : {
                  ok: false,
                  code: 'older',
                  message: `${file} was written by an older Portwatch (schema ${version}; this one reads ${SCHEMA_VERSION}): the next recording (portwatch record) brings it up to date, keeping what it holds`,
                },
          );
        }
        HistoryStore.migrate(db, version, opts.now ?? Date.now);
      }
      return { ok: true, store: new HistoryStore(db, file, lock, opts), notes };
    } catch (e) {
      return fail({ ok: false, code: isCorruption(e) ? 'corrupt' : 'unsafe', message: `cannot open the history ${file}: ${(e as Error).message}` });
    }
  }

  private static connect(file: string, write: boolean): Database.Database {
    const db = new Database(file);
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      if (write) {
        // before any table exists, so that pruning can give pages back to the file system
        db.exec('PRAGMA auto_vacuum = INCREMENTAL');
        db.exec('PRAGMA journal_mode = WAL');
        db.exec('PRAGMA synchronous = NORMAL');
      }
      db.prepare('SELECT count(*) AS n FROM sqlite_master').get();
      return db;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private static migrate(db: Database.Database, from: number, now: () => number): void {
    for (let v = from; v < SCHEMA_VERSION; v++) {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec(MIGRATIONS[v] as string);
        db.exec(`PRAGMA user_version = ${v + 1}`);
        if (v === 0) db.prepare(`INSERT INTO meta (key, value) VALUES ('created', ?)`).run(String(now()));
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    }
  }

  /** Writes one poll's batch in one transaction; returns how long it took (ms). */
  write(batch: HistoryBatch): number {
    return this.writePacked(packBatch(batch));
  }

  /**
   * write() for a batch whose events are rows already (the writer thread's). The events go in order, 64 rows
   * a statement (each bound as one array: libsql's spread arguments cost as much again), then the listener spans
   * of the listen and unlisten events among them, in their order.
   */
  writePacked(batch: PackedBatch): number {
    const started = performance.now();
    if (batch.rows.length === 0 && batch.flows.length === 0) return 0;
    const floor = this.lastAt;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.insertRows(batch.rows, floor);
      for (const r of batch.rows) if (r[1] === 'listen' || r[1] === 'unlisten') this.writeListener(r, floor);
      for (const f of batch.flows) this.writeFlow(f);
      this.db.exec('COMMIT');
    } catch (e) {
      // SQLite has rolled back itself after some errors (a full disk): a second ROLLBACK would hide the first error
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.lastAt = floor;
      throw e;
    }
    return performance.now() - started;
  }

  /** `floor`: the latest time of the batches before (within a batch the tracker keeps its own order). */
  private insertRows(rows: readonly EventRow[], floor: number): void {
    let i = 0;
    for (const n of INSERT_CHUNKS) {
      const insert = this.insertEvents.get(n) as Database.Statement;
      for (; i + n <= rows.length; i += n) {
        const params: unknown[] = [];
        for (let j = i; j < i + n; j++) {
          const r = rows[j] as EventRow;
          const at = r[0] < floor ? floor : r[0];
          if (at > this.lastAt) this.lastAt = at;
          params.push(at);
          for (let c = 1; c < EVENT_ROW_WIDTH; c++) params.push(r[c]);
        }
        insert.run(params);
      }
    }
  }

  private writeListener(r: EventRow, floor: number): void {
    const [at0, kind, , protocol, , localAddress, localPort, , , , pid, name, exe, user, , , , , netns, note] = r;
    const at = at0 < floor ? floor : at0;
    const key = listenerKey({ protocol, localAddress, localPort, netns });
    if (kind === 'listen') {
      this.stopListener.run([at, 'replaced', key]);
      this.startListener.run([key, protocol, localAddress, localPort, netns, pid, name, exe, user, at]);
    } else this.stopListener.run([at, note, key]);
  }

  private writeFlow(f: FlowIncrement): void {
    const key = this.upsertKey.get([f.program, f.name, f.remoteAddress, f.port, f.protocol, f.direction, f.firstSeen, f.lastSeen]) as Row;
    this.upsertHour.run([f.hour, num(key.id), f.opened, f.closed, f.bytesIn, f.bytesOut, f.firstSeen, f.lastSeen]);
  }

  /** The listening ports the history has as still listening: a new recording closes the ones gone. */
  openListenerKeys(): Set<string> {
    return new Set((this.db.prepare('SELECT key FROM listeners WHERE stopped_at IS NULL').all() as Row[]).map((r) => str(r.key)));
  }

  /**
   * What the history says each program has contacted going out, as contactKey()s, for first-contact alerts: at
   * most `limit` (`truncated` when there are more), read from flow_keys' own key index alone; and since when the
   * history reaches back (its oldest hour's first sighting), null when it holds none.
   */
  contacts(limit: number): { keys: string[]; truncated: boolean; since: number | null } {
    const rows = this.db.prepare(`SELECT program, remote_address, port, protocol FROM flow_keys WHERE direction = 'out' LIMIT ?`).all(limit + 1) as Row[];
    const since = (this.db.prepare('SELECT min(first_seen) AS since FROM flow_hours WHERE hour = (SELECT min(hour) FROM flow_hours)').get() as Row).since;
    return {
      keys: rows.slice(0, limit).map((r) => contactKey(str(r.program), str(r.remote_address), num(r.port), str(r.protocol))),
      truncated: rows.length > limit,
      since: numOrNull(since),
    };
  }

  private statement(sql: string): Database.Statement {
    let st = this.prepared.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.prepared.set(sql, st);
    }
    return st;
  }

  /** Bytes the database's live pages take (its file may be larger until pages are given back). */
  usedBytes(): number {
    const pages = num((this.statement('PRAGMA page_count').get() as Row).page_count);
    const free = num((this.statement('PRAGMA freelist_count').get() as Row).freelist_count);
    const size = num((this.statement('PRAGMA page_size').get() as Row).page_size);
    return (pages - free) * size;
  }

  /**
   * One small step of retention: at most `batchRows` old events, flows and listener spans, then, while the
   * database is over `maxBytes`, as many of the oldest events (or, when none are left, flows). Freed pages go back
   * to the file system. `more` is true when there is more to prune (call again after the next poll).
   */
  prune(): { deleted: number; more: boolean } {
    const now = this.now();
    const n = this.retention.batchRows;
    let deleted = 0;
    let more = false;
    const step = (sql: string, ...params: unknown[]): void => {
      const changes = this.statement(sql).run(params).changes;
      deleted += changes;
      if (changes >= n) more = true;
    };
    step('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)', now - this.retention.eventsMs, n);
    step('DELETE FROM flow_hours WHERE (hour, flow) IN (SELECT hour, flow FROM flow_hours WHERE hour < ? LIMIT ?)', now - this.retention.flowsMs, n);
    // a key last seen before the oldest hour kept has no hours left
    step(
      'DELETE FROM flow_keys WHERE id IN (SELECT id FROM flow_keys WHERE last_seen < coalesce((SELECT min(hour) FROM flow_hours), ?) LIMIT ?)',
      now - this.retention.flowsMs,
      n,
    );
    step('DELETE FROM listeners WHERE id IN (SELECT id FROM listeners WHERE stopped_at < ? LIMIT ?)', now - this.retention.flowsMs, n);
    if (this.usedBytes() > this.retention.maxBytes) {
      const before = deleted;
      step('DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY at LIMIT ?)', n);
      if (deleted === before) step('DELETE FROM flow_hours WHERE (hour, flow) IN (SELECT hour, flow FROM flow_hours ORDER BY hour LIMIT ?)', n);
      more = deleted > before;
    }
    if (deleted > 0) this.db.exec('PRAGMA incremental_vacuum');
    return { deleted, more };
  }

  /**
   * Flows whose hours overlap the range, summed over those hours, busiest first. Hourly: the first and last hour
   * count whole (first and last seen say when within them).
   */
  flows(range: TimeRange): FlowRow[] {
    const rows = this.db
      .prepare(
        `SELECT k.program, k.name, k.remote_address, k.port, k.protocol, k.direction, s.opened, s.closed, s.bytes_in, s.bytes_out, s.first_seen, s.last_seen
         FROM (SELECT flow, sum(opened) AS opened, sum(closed) AS closed, sum(bytes_in) AS bytes_in, sum(bytes_out) AS bytes_out,
                 min(first_seen) AS first_seen, max(last_seen) AS last_seen
               FROM flow_hours WHERE hour >= ? AND hour <= ? AND last_seen >= ? AND first_seen <= ? GROUP BY flow) s
         JOIN flow_keys k ON k.id = s.flow
         ORDER BY s.bytes_in + s.bytes_out DESC, s.opened DESC, k.program, k.remote_address, k.port`,
      )
      // the hour range first: the primary key finds a day among a year's rows without reading the rest
      .all(hourOf(range.since), range.until, range.since, range.until) as Row[];
    return rows.map((r) => ({
      program: str(r.program),
      name: str(r.name),
      remoteAddress: str(r.remote_address),
      port: num(r.port),
      protocol: str(r.protocol) as Protocol,
      direction: str(r.direction) as Direction,
      opened: num(r.opened),
      closed: num(r.closed),
      bytesIn: num(r.bytes_in),
      bytesOut: num(r.bytes_out),
      firstSeen: num(r.first_seen),
      lastSeen: num(r.last_seen),
    }));
  }

  /** The times a port listened that overlap the range, in the order they started. */
  listeners(range: TimeRange): ListenerSpan[] {
    const rows = this.db
      .prepare(
        `SELECT protocol, local_address, local_port, netns, pid, name, exe, user, started_at, stopped_at, stop_note FROM listeners
         WHERE started_at <= ? AND (stopped_at IS NULL OR stopped_at >= ?) ORDER BY started_at, id`,
      )
      .all(range.until, range.since) as Row[];
    return rows.map((r) => ({
      protocol: str(r.protocol) as Protocol,
      localAddress: str(r.local_address),
      localPort: num(r.local_port),
      netns: strOrNull(r.netns),
      pid: numOrNull(r.pid),
      name: strOrNull(r.name),
      exe: strOrNull(r.exe),
      user: strOrNull(r.user),
      startedAt: num(r.started_at),
      stoppedAt: numOrNull(r.stopped_at),
      stopNote: strOrNull(r.stop_note),
    }));
  }

  /** Raw events in a range, oldest first (at most `limit`): for the tests and the bench. */
  events(range: TimeRange, limit = 10_000): StoredEvent[] {
    const rows = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE at >= ? AND at <= ? ORDER BY at, id LIMIT ?`)
      .all(range.since, range.until, limit) as Row[];
    return rows.map(eventOf);
  }

  /** Row counts, for tests and the bench. */
  counts(): { events: number; flows: number; keys: number; listeners: number } {
    const c = (t: string): number => num((this.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as Row).n);
    return { events: c('events'), flows: c('flow_hours'), keys: c('flow_keys'), listeners: c('listeners') };
  }

  /** Checkpoints the WAL into the database, closes it, and releases the lock. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.lock) this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
      this.lock?.release();
    }
  }

  /**
   * The events of one flow's connections (opened, closed with bytes and duration, owner changes) in a range,
   * oldest first, at most `limit`. A flow is keyed as the tracker counts it: program = executable, else process
   * name; port = the local one coming in, the remote one going out. Found through the (remote_address, at)
   * index: only that host's events in the range are read, and it stops at `limit` matches.
   */
  flowEvents(key: FlowKey, range: TimeRange, limit: number): FlowEventRow[] {
    const rows = this.db
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM events
         WHERE at >= ? AND at <= ? AND kind IN ('open', 'close', 'owner') AND remote_address = ? AND protocol = ?
           AND coalesce(direction, 'out') = ? AND coalesce(exe, name, '') = ?
           AND (CASE WHEN coalesce(direction, 'out') = 'in' THEN local_port ELSE coalesce(remote_port, 0) END) = ?
         ORDER BY at, id LIMIT ?`,
      )
      .all(range.since, range.until, key.remoteAddress, key.protocol, key.direction, key.program, key.port, limit) as Row[];
    // the query's kinds are a flow's
    return rows.map(eventOf) as FlowEventRow[];
  }

  /**
   * Connections and bytes per bucket of `bucketMs` from `origin` over a range, from the hourly flows (exact
   * bytes; `bucketMs` a whole number of hours) or from the raw events (connections when they opened, or closed
   * unseen between two polls; bytes when their connection closed). Buckets without any are left out.
   */
  timeline(range: TimeRange, origin: number, bucketMs: number, source: 'flows' | 'events'): TimelineRow[] {
    const sql =
      source === 'flows'
        ? `SELECT CAST((hour - ?) / ? AS INTEGER) AS b, sum(opened) AS connections, sum(bytes_in) AS bytes_in, sum(bytes_out) AS bytes_out
           FROM flow_hours WHERE hour >= ? AND hour <= ? GROUP BY b ORDER BY b`
        : `SELECT CAST((at - ?) / ? AS INTEGER) AS b, sum(kind = 'open' OR note LIKE 'between-polls%') AS connections,
             sum(CASE WHEN kind = 'close' THEN coalesce(bytes_in, 0) ELSE 0 END) AS bytes_in,
             sum(CASE WHEN kind = 'close' THEN coalesce(bytes_out, 0) ELSE 0 END) AS bytes_out
           FROM events WHERE at >= ? AND at <= ? AND kind IN ('open', 'close') AND remote_address IS NOT NULL GROUP BY b ORDER BY b`;
    const since = source === 'flows' ? hourOf(range.since) : range.since;
    const rows = this.db.prepare(sql).all(origin, bucketMs, since, range.until) as Row[];
    return rows.map((r) => ({ at: origin + num(r.b) * bucketMs, connections: num(r.connections), bytesIn: num(r.bytes_in), bytesOut: num(r.bytes_out) }));
  }
}
