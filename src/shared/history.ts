import type { Direction, Protocol, Socket } from './model';
import { parseQuery, type Query, type QueryNode, type QueryTerm } from './query';

/**
 * What the history answers, as the API carries it (the History view and `portwatch history` read the same
 * rows), and the pure rules both apply: which filter fields a stored flow can answer, a flow or listener span as
 * a Socket for the filter language, how a range is cut into the timeline's buckets. No Node, no DOM.
 */

/** A time range, epoch ms, both ends included. */
export interface HistoryRange {
  since: number;
  until: number;
}

/** One flow summed over a range: per program, remote host, service port, protocol and direction. */
export interface HistoryFlow {
  /** The executable's path when known, else the process name, else '' (no owner seen). Untrusted text. */
  program: string;
  /** The process name (untrusted text). */
  name: string;
  remoteAddress: string;
  /** The service's port: the remote one going out, the local (listening) one coming in. */
  port: number;
  protocol: Protocol;
  direction: Direction;
  opened: number;
  closed: number;
  bytesIn: number;
  bytesOut: number;
  firstSeen: number;
  lastSeen: number;
}

/** What names a flow: its key in the hourly table. */
export type FlowKey = Pick<HistoryFlow, 'program' | 'remoteAddress' | 'port' | 'protocol' | 'direction'>;

/** One time a port listened: who, from when, until when. */
export interface HistoryListener {
  protocol: Protocol;
  localAddress: string;
  localPort: number;
  netns: string | null;
  pid: number | null;
  name: string | null;
  exe: string | null;
  user: string | null;
  startedAt: number;
  /** null: still listening (when last recorded). */
  stoppedAt: number | null;
  /** 'not-recording': it was gone when a recording started, so it stopped some time before that. */
  stopNote: string | null;
}

/** One event of a flow's connections. */
export interface HistoryFlowEvent {
  at: number;
  /** open, close, owner (a new process holds it); listen and unlisten never belong to a flow. */
  kind: 'open' | 'close' | 'owner';
  socketId: string;
  localAddress: string;
  localPort: number;
  remotePort: number | null;
  pid: number | null;
  name: string | null;
  /** close: its final counters; open and owner: the counters then. */
  bytesIn: number | null;
  bytesOut: number | null;
  durationMs: number | null;
  /** owner: the pid before. close: 'between-polls' for a connection no poll saw (', owner guessed from its listener|destination' when guessed). */
  note: string | null;
}

/** Who records into the database now, when someone does. */
export interface HistoryRecording {
  /** `portwatch record (pid 4242, since 10:00)`, or that a lock is held by someone unknown. Untrusted text. */
  holder: string;
}

export interface HistoryFlows {
  /** The database read (for the view's footer). */
  db: string;
  flows: HistoryFlow[];
  /** Flows that matched; more than `flows.length` when truncated. */
  matched: number;
  /** Only the busiest MAX_HISTORY_FLOWS are here. */
  truncated: boolean;
  recording: HistoryRecording | null;
}

export interface HistoryListeners {
  db: string;
  listeners: HistoryListener[];
  truncated: boolean;
  recording: HistoryRecording | null;
}

export interface HistoryEvents {
  events: HistoryFlowEvent[];
  /** More events than MAX_HISTORY_EVENTS in the range: the first ones are here. */
  truncated: boolean;
}

export interface TimelinePoint {
  /** The bucket's start. */
  at: number;
  connections: number;
  bytesIn: number;
  bytesOut: number;
}

export interface HistoryTimeline {
  bucketMs: number;
  /**
   * flows: hourly aggregates (exact bytes per hour); events: raw events, for buckets under an hour (connections
   * by when they opened, bytes by when their connection closed).
   */
  source: 'flows' | 'events';
  points: TimelinePoint[];
}

export const MAX_HISTORY_FLOWS = 5000;
export const MAX_HISTORY_LISTENERS = 5000;
export const MAX_HISTORY_EVENTS = 1000;
export const MAX_TIMELINE_BUCKETS = 500;
/** The widest range asked at once: a little over the flows' default retention (a year). */
export const MAX_HISTORY_SPAN_MS = 400 * 86_400_000;

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * The bucket for `buckets` points over a range: an hour or whole hours (from the hourly flows, exact) when the
 * range is wide enough, else whole minutes (from the raw events).
 */
export function timelineBucket(range: HistoryRange, buckets: number): { bucketMs: number; source: 'flows' | 'events' } {
  const span = Math.max(1, range.until - range.since);
  const raw = Math.ceil(span / Math.max(1, buckets));
  if (raw >= HOUR_MS / 2) return { bucketMs: Math.ceil(raw / HOUR_MS) * HOUR_MS, source: 'flows' };
  return { bucketMs: Math.max(MINUTE_MS, Math.ceil(raw / MINUTE_MS) * MINUTE_MS), source: 'events' };
}

/** The starts of the buckets covering a range, aligned to the bucket size (hours on the hour, UTC). */
export function bucketStarts(range: HistoryRange, bucketMs: number): number[] {
  const out: number[] = [];
  for (let at = Math.floor(range.since / bucketMs) * bucketMs; at <= range.until && out.length <= MAX_TIMELINE_BUCKETS * 2; at += bucketMs) out.push(at);
  return out;
}

/**
 * The query fields a stored flow can answer (a flow keeps its program, remote host and port, protocol,
 * direction); the others (pid, user, state, iface, netns, rates) name what the history does not keep per flow,
 * and are refused rather than silently matching nothing.
 */
export const HISTORY_FIELDS: ReadonlySet<string> = new Set([
  'text',
  'proc',
  'port',
  'lport',
  'rport',
  'portCompare',
  'host',
  'cidr',
  'address',
  'hostName',
  'endpoint',
  'proto',
  'family',
  'dir',
]);

function termsOf(n: QueryNode, out: QueryTerm[] = []): QueryTerm[] {
  if (n.kind === 'term') out.push(n.term);
  else if (n.kind === 'not') termsOf(n.item, out);
  else for (const item of n.items) termsOf(item, out);
  return out;
}

export type HistoryQueryParse = { ok: true; query: Query | null } | { ok: false; message: string; position: number | null };

/** A filter for stored flows: the filter language, less the fields the history does not keep. Blank: none. */
export function parseHistoryQuery(text: string): HistoryQueryParse {
  if (text.trim() === '') return { ok: true, query: null };
  const q = parseQuery(text);
  if (!q.ok) return q;
  const unsupported = termsOf(q.query.root).find((t) => !HISTORY_FIELDS.has(t.field));
  if (unsupported) {
    return {
      ok: false,
      message: `the history keeps no ${unsupported.field} per flow; it filters on free text, proc, port, lport, rport, host, proto, family, dir`,
      position: null,
    };
  }
  return { ok: true, query: q.query };
}

/** A flow as a Socket, for matchesQuery: the service port is the local one coming in, the remote one going out. */
export function flowAsSocket(f: HistoryFlow): Socket {
  const inbound = f.direction === 'in';
  return {
    id: '',
    protocol: f.protocol,
    family: f.remoteAddress.includes(':') ? 6 : 4,
    localAddress: '',
    localPort: inbound ? f.port : -1,
    remoteAddress: f.remoteAddress,
    remotePort: inbound ? null : f.port,
    state: 'ESTABLISHED',
    listening: false,
    pid: null,
    pids: [],
    uid: null,
    user: null,
    ownerHidden: false,
    noOwner: null,
    interface: null,
    v6only: null,
    bytesIn: f.bytesIn,
    bytesOut: f.bytesOut,
    rttMs: null,
    direction: f.direction,
    netns: null,
    container: null,
    process: { pid: 0, ppid: null, name: f.name, exe: f.program || null, cmdline: f.program ? [f.program] : [], uid: null, user: null, startTime: null },
  };
}

/** A listener span as a Socket, for matchesQuery. */
export function listenerAsSocket(l: HistoryListener): Socket {
  return {
    ...flowAsSocket({
      program: l.exe ?? '',
      name: l.name ?? '',
      remoteAddress: '',
      port: 0,
      protocol: l.protocol,
      direction: 'in',
      opened: 0,
      closed: 0,
      bytesIn: 0,
      bytesOut: 0,
      firstSeen: 0,
      lastSeen: 0,
    }),
    family: l.localAddress.includes(':') ? 6 : 4,
    localAddress: l.localAddress,
    localPort: l.localPort,
    remoteAddress: null,
    remotePort: null,
    state: l.protocol === 'tcp' ? 'LISTEN' : 'UNCONN',
    listening: true,
    direction: null,
    pid: l.pid,
    pids: l.pid === null ? [] : [l.pid],
    user: l.user,
    netns: l.netns,
  };
}

/** The last part of a path (`/usr/bin/curl` -> `curl`), without Node's path module. */
export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** How a program is named in the history: its process name, else its executable's file name, else `(no owner)`. */
export function programName(name: string | null, program: string | null): string {
  return name || (program ? baseName(program) : '') || '(no owner)';
}

/** `350 ms`, `4.2 s`, `3 min 20 s`, `2 h 5 min`: a connection's life. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  if (m < 1440) return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const h = Math.round(m / 60);
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
}
