import { csvField } from '../../shared/export';
import { flowAsSocket, listenerAsSocket, parseHistoryQuery, programName } from '../../shared/history';
import { formatBytes, formatEndpoint } from '../../shared/model';
import { matchesQuery, type Query } from '../../shared/query';
import { parseTimeSpec } from '../../shared/timeSpec';
import { describeHolder, HistoryLock } from '../engine/history/lock';
import { HistoryStore, type FlowRow, type ListenerSpan } from '../engine/history/store';
import { parse, UsageError, type CliIo } from './args';
import { inert, inertCell, inertJson } from './format';
import { HISTORY_HELP } from './help';
import { historyPath } from './record';

export { flowAsSocket, listenerAsSocket } from '../../shared/history';

/**
 * `portwatch history`: what the history holds for a time range: flows (hourly aggregates summed per program,
 * remote host, port, protocol and direction), or with --listeners the listener timeline. Reads while a recorder
 * writes (WAL), changes nothing, and says who is recording.
 */

/** The filter, parsed for stored flows (shared/history.ts: the fields the history keeps). */
function historyFilter(text: string | undefined): Query | null {
  if (text === undefined) return null;
  const q = parseHistoryQuery(text);
  if (!q.ok) throw new UsageError(`portwatch history: --filter: ${q.message}${q.position === null ? '' : ` (at character ${q.position + 1})`}`);
  return q.query;
}

/** `2026-12-01 10:00:05`, local time, as a person reads a log. */
export function localTime(at: number): string {
  const d = new Date(at);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Columns sized to their longest cell, two spaces apart; every cell through inert(). */
function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const cells = rows.map((r) => r.map(inertCell));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].join('\n') + '\n';
}

function flowTable(flows: readonly FlowRow[]): string {
  return table(
    ['PROGRAM', 'DIR', 'PROTO', 'REMOTE', 'PORT', 'CONNS', 'IN', 'OUT', 'FIRST SEEN', 'LAST SEEN', 'EXECUTABLE'],
    flows.map((f) => [
      programName(f.name, f.program),
      f.direction,
      f.protocol,
      f.remoteAddress,
      String(f.port),
      String(f.opened),
      formatBytes(f.bytesIn),
      formatBytes(f.bytesOut),
      localTime(f.firstSeen),
      localTime(f.lastSeen),
      f.program,
    ]),
  );
}

function listenerTable(spans: readonly ListenerSpan[]): string {
  return table(
    ['PROTO', 'LOCAL', 'PROGRAM', 'PID', 'USER', 'LISTENING FROM', 'UNTIL'],
    spans.map((l) => [
      l.protocol,
      formatEndpoint(l.localAddress, l.localPort),
      programName(l.name, l.exe),
      l.pid === null ? '' : String(l.pid),
      l.user ?? '',
      localTime(l.startedAt),
      l.stoppedAt === null ? 'still listening' : `${localTime(l.stoppedAt)}${l.stopNote === 'not-recording' ? ' (or before: not recording)' : ''}`,
    ]),
  );
}

const FLOW_CSV = [
  'program',
  'name',
  'direction',
  'protocol',
  'remoteAddress',
  'port',
  'opened',
  'closed',
  'bytesIn',
  'bytesOut',
  'firstSeen',
  'lastSeen',
] as const;
const LISTENER_CSV = ['protocol', 'localAddress', 'localPort', 'netns', 'pid', 'name', 'exe', 'user', 'startedAt', 'stoppedAt', 'stopNote'] as const;

/** RFC 4180, text through inert() and the export's formula guard; times as ISO 8601 (UTC). */
function csv<T extends object>(columns: readonly (keyof T & string)[], rows: readonly T[], times: ReadonlySet<string>): string {
  const cell = (row: T, c: keyof T & string): string => {
    const v = row[c];
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return times.has(c) ? new Date(v).toISOString() : String(v);
    return csvField(inert(String(v)));
  };
  return [columns.join(','), ...rows.map((r) => columns.map((c) => cell(r, c)).join(','))].join('\r\n') + '\r\n';
}

export function history(args: string[], io: CliIo, now: () => number = Date.now): number {
  const v = parse('history', args, {
    db: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    filter: { type: 'string' },
    listeners: { type: 'boolean' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) {
    io.out(HISTORY_HELP);
    return 0;
  }
  if (v.json && v.csv) throw new UsageError('portwatch history: choose one of --json and --csv');
  const t = now();
  const time = (flag: 'since' | 'until', text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const r = parseTimeSpec(text, t);
    if (!r.ok) throw new UsageError(`portwatch history: --${flag}: ${inert(r.message)}`);
    return r.at;
  };
  const since = time('since', v.since, t - 86_400_000);
  const until = time('until', v.until, t);
  if (since > until) throw new UsageError('portwatch history: --since is after --until');
  const terms = historyFilter(v.filter);
  const path = historyPath('history', v.db);
  const opened = HistoryStore.open(path, { mode: 'read' });
  if (!opened.ok) {
    io.err(`portwatch history: ${inert(opened.message)}\n`);
    return 1;
  }
  const store = opened.store;
  try {
    const holder = HistoryLock.holder(`${store.path}.lock`);
    if (holder !== null) io.err(`portwatch: this history is being recorded now by ${inert(describeHolder(holder))}\n`);
    const range = { since, until };
    const recording = holder === null ? null : holder === 'unknown' ? { pid: null, command: null } : holder;
    if (v.listeners) {
      const spans = store.listeners(range).filter((l) => terms === null || matchesQuery(terms, listenerAsSocket(l)));
      if (v.json) io.out(inertJson(JSON.stringify({ db: store.path, since, until, recording, listeners: spans }, null, 2)) + '\n');
      else if (v.csv) io.out(csv(LISTENER_CSV, spans, new Set(['startedAt', 'stoppedAt'])));
      else io.out(spans.length === 0 ? `No listener in the history from ${localTime(since)} to ${localTime(until)}.\n` : listenerTable(spans));
      return 0;
    }
    const flows = store.flows(range).filter((f) => terms === null || matchesQuery(terms, flowAsSocket(f)));
    if (v.json) io.out(inertJson(JSON.stringify({ db: store.path, since, until, recording, flows }, null, 2)) + '\n');
    else if (v.csv) io.out(csv(FLOW_CSV, flows, new Set(['firstSeen', 'lastSeen'])));
    else io.out(flows.length === 0 ? `No connection in the history from ${localTime(since)} to ${localTime(until)}.\n` : flowTable(flows));
    return 0;
  } finally {
    store.close();
  }
}
