import type { ApiResult } from '../../../shared/api';
import type { PortwatchApi } from '../../../shared/contract';
import {
  formatDuration,
  programName,
  type FlowKey,
  type HistoryEvents,
  type HistoryFlow,
  type HistoryFlowEvent,
  type HistoryFlows,
  type HistoryListener,
  type HistoryListeners,
  type HistoryRange,
  type HistoryTimeline,
} from '../../../shared/history';
import { formatBytes } from '../../../shared/model';
import { parseTimeSpec } from '../../../shared/timeSpec';

/**
 * The History view's model: the questions it asks the engine (HistoryQueries, the store's part the view calls),
 * and the pure rules it shows answers by: the range choices, the flows' sort, the words for an event and for a
 * listener span. Components render these and call the queries; none of them touches the API.
 */

/** The API's history methods, for the History view (which must not import the API). */
export class HistoryQueries {
  constructor(private readonly api: PortwatchApi) {}
  flows(range: HistoryRange, query: string): Promise<ApiResult<HistoryFlows>> {
    return this.api.historyFlows(range, query);
  }
  listeners(range: HistoryRange, port: number | null): Promise<ApiResult<HistoryListeners>> {
    return this.api.historyListeners(range, port);
  }
  events(key: FlowKey, range: HistoryRange): Promise<ApiResult<HistoryEvents>> {
    return this.api.historyEvents(key, range);
  }
  timeline(range: HistoryRange, buckets: number): Promise<ApiResult<HistoryTimeline>> {
    return this.api.historyTimeline(range, buckets);
  }
}

export type RangeChoice = 'hour' | 'day' | 'week' | 'custom';
export const RANGE_CHOICES: ReadonlyArray<{ id: RangeChoice; label: string }> = [
  { id: 'hour', label: 'Last hour' },
  { id: 'day', label: 'Last day' },
  { id: 'week', label: 'Last week' },
  { id: 'custom', label: 'Custom' },
];
const SPAN: Record<Exclude<RangeChoice, 'custom'>, number> = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 };
/** Buckets of the timeline: a minute each for the hour, an hour each for the day and the week. */
export const BUCKETS: Record<RangeChoice, number> = { hour: 60, day: 24, week: 168, custom: 60 };

export type RangeResult = { ok: true; range: HistoryRange } | { ok: false; message: string };

/**
 * The range a choice means now. Custom: from and to as the datetime inputs give them (`2026-12-01T10:00`, local
 * time) or as `history --since` takes them (`3h`, `now`); an empty `to` is now.
 */
export function rangeOf(choice: RangeChoice, now: number, custom: { from: string; to: string }): RangeResult {
  if (choice !== 'custom') return { ok: true, range: { since: now - SPAN[choice], until: now } };
  if (custom.from.trim() === '') return { ok: false, message: 'Choose when the range starts (From).' };
  const from = parseTimeSpec(custom.from, now);
  if (!from.ok) return { ok: false, message: `From: ${from.message}` };
  const to = custom.to.trim() === '' ? { ok: true as const, at: now } : parseTimeSpec(custom.to, now);
  if (!to.ok) return { ok: false, message: `To: ${to.message}` };
  if (from.at > to.at) return { ok: false, message: 'From is after To.' };
  if (to.at - from.at > 400 * 86_400_000) return { ok: false, message: 'Choose at most 400 days.' };
  return { ok: true, range: { since: from.at, until: to.at } };
}

/** A datetime-local input's value for an instant (local time, to the minute). */
export function localInputValue(at: number): string {
  const d = new Date(at);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export type FlowColumn = 'program' | 'remote' | 'port' | 'protocol' | 'direction' | 'connections' | 'bytesIn' | 'bytesOut' | 'firstSeen' | 'lastSeen';
export const FLOW_COLUMNS: ReadonlyArray<{ id: FlowColumn; title: string }> = [
  { id: 'program', title: 'Program' },
  { id: 'remote', title: 'Remote host' },
  { id: 'port', title: 'Port' },
  { id: 'protocol', title: 'Proto' },
  { id: 'direction', title: 'Dir' },
  { id: 'connections', title: 'Conns' },
  { id: 'bytesIn', title: 'In' },
  { id: 'bytesOut', title: 'Out' },
  { id: 'firstSeen', title: 'First seen' },
  { id: 'lastSeen', title: 'Last seen' },
];
/** Numbers and times sort largest (newest) first on the first click; text A to Z. */
export const FIRST_DIR: Record<FlowColumn, 1 | -1> = {
  program: 1,
  remote: 1,
  port: 1,
  protocol: 1,
  direction: 1,
  connections: -1,
  bytesIn: -1,
  bytesOut: -1,
  firstSeen: -1,
  lastSeen: -1,
};

function flowValue(f: HistoryFlow, col: FlowColumn): string | number {
  switch (col) {
    case 'program':
      return programName(f.name, f.program).toLowerCase();
    case 'remote':
      return f.remoteAddress;
    case 'port':
      return f.port;
    case 'protocol':
      return f.protocol;
    case 'direction':
      return f.direction;
    case 'connections':
      return f.opened;
    case 'bytesIn':
      return f.bytesIn;
    case 'bytesOut':
      return f.bytesOut;
    case 'firstSeen':
      return f.firstSeen;
    case 'lastSeen':
      return f.lastSeen;
  }
}

/** The flows in a column's order (ties keep the engine's: busiest first). A new array. */
export function sortFlows(flows: readonly HistoryFlow[], col: FlowColumn | null, dir: 1 | -1): HistoryFlow[] {
  if (col === null) return [...flows];
  return flows
    .map((f, i) => ({ f, i, v: flowValue(f, col) }))
    .sort((a, b) => (a.v < b.v ? -dir : a.v > b.v ? dir : a.i - b.i))
    .map((x) => x.f);
}

/** A flow's identity, for React keys and the selection. */
export function flowId(f: FlowKey): string {
  return JSON.stringify([f.program, f.remoteAddress, f.port, f.protocol, f.direction]);
}

export function keyOf(f: HistoryFlow): FlowKey {
  return { program: f.program, remoteAddress: f.remoteAddress, port: f.port, protocol: f.protocol, direction: f.direction };
}

/** What happened, in words: `closed after 4.2 s: 9.0 KB in, 600 B out`. */
export function describeEvent(e: HistoryFlowEvent): string {
  const bytes = e.bytesIn === null && e.bytesOut === null ? '' : `${formatBytes(e.bytesIn ?? 0)} in, ${formatBytes(e.bytesOut ?? 0)} out`;
  if (e.kind === 'open') return 'opened';
  if (e.kind === 'owner') return `owner changed: pid ${e.note ?? '?'} to ${e.pid ?? '?'}`;
  if (e.note?.startsWith('between-polls')) {
    // the owner of one no poll saw is a guess, and says whose (Monitor.complete)
    const guess = e.note.endsWith('listener')
      ? ' (owner guessed: its listener’s)'
      : e.note.endsWith('destination')
        ? ' (owner guessed: its earlier connection to this host and port)'
        : '';
    return `opened and closed between two polls${guess}${bytes ? `: ${bytes}` : ''}`;
  }
  const after = e.durationMs === null ? 'closed' : `closed after ${formatDuration(e.durationMs)}`;
  return bytes ? `${after}: ${bytes}` : after;
}

/** Who held a listening port: `nginx (pid 80, root)`. */
export function listenerOwner(l: HistoryListener): string {
  const name = programName(l.name, l.exe);
  const details = [l.pid === null ? null : `pid ${l.pid}`, l.user].filter((x) => x !== null);
  return details.length ? `${name} (${details.join(', ')})` : name;
}

/** Until when a port listened, in words. */
export function listenerUntil(l: HistoryListener, time: (at: number) => string): string {
  if (l.stoppedAt === null) return 'still listening';
  if (l.stopNote === 'not-recording') return `${time(l.stoppedAt)} or before (not recording)`;
  return time(l.stoppedAt);
}

/**
 * The spans the view lists for a port, or every span when no port is asked. Filtered here too, not only by the
 * engine: while the answer for a newly typed port is on its way, the last answer (every port's spans) is still
 * the one at hand, and the table must not list other ports under this port's answer.
 */
export function spansOfPort(spans: readonly HistoryListener[], port: number | null): readonly HistoryListener[] {
  return port === null ? spans : spans.filter((l) => l.localPort === port);
}

/**
 * The answer to "when did this port start listening, and who": the newest span of the port, in one sentence.
 * null when the history has none in the range.
 */
export function listenerAnswer(spans: readonly HistoryListener[], port: number, time: (at: number) => string): string | null {
  const mine = spansOfPort(spans, port);
  const last = mine[mine.length - 1];
  if (!last) return null;
  const where = `${last.protocol} ${last.localAddress.includes(':') ? `[${last.localAddress}]` : last.localAddress}:${port}`;
  const since = `${where} started listening at ${time(last.startedAt)}, held by ${listenerOwner(last)}`;
  const end = last.stoppedAt === null ? '; it still listens' : `; it stopped at ${listenerUntil(last, time)}`;
  const before = mine.length > 1 ? ` (${mine.length - 1} earlier time${mine.length > 2 ? 's' : ''} in this range, below)` : '';
  return `${since}${end}${before}.`;
}

/** `10:05`, or with the date when the range spans days: `Dec 1, 10:05`. */
export function timeLabel(at: number, withDate: boolean): string {
  const d = new Date(at);
  return withDate
    ? d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** A full local time, as a log shows it: `2026-12-01 10:00:05`. */
export function fullTime(at: number): string {
  const d = new Date(at);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
