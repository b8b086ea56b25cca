import type { KillPlan } from '../../../shared/killPlan';
import { describeHoldings } from '../../../shared/killPlan';
import { describeNoOwner, formatBytes, formatEndpoint, type ClosedConnection, type Socket } from '../../../shared/model';
import { inert } from '../../../shared/inert';
import { processSummary } from '../../../shared/processSummary';
import { matchesQuery, type Query } from '../../../shared/query';
import { closedRate, totalTraffic, type TrafficSum } from '../../../shared/traffic';

/*
 * `portwatch top`'s view, as pure functions: the rows (processes, then their connections) from a poll's
 * sockets and closed records, their order, the filter, and the lines that fit a terminal's width. The Ink
 * components (view.ts) only lay these lines out and read keys. Every string from the system goes through
 * inert() here, before it can reach a terminal.
 */

export type SortKey = 'rate' | 'in' | 'out' | 'total' | 'name' | 'pid';
export const SORT_KEYS: readonly SortKey[] = ['rate', 'in', 'out', 'total', 'name', 'pid'];

/** The sort after `k`, as the `s` key cycles them. */
export function nextSort(k: SortKey): SortKey {
  return SORT_KEYS[(SORT_KEYS.indexOf(k) + 1) % SORT_KEYS.length] as SortKey;
}

export interface ConnectionRow {
  kind: 'connection';
  /** The socket's id: stable across polls, so a selection stays on its row. */
  id: string;
  socket: Socket;
  /** Bytes a second; null on first sight, and where the kernel keeps no counters (`counted` false). */
  rateIn: number | null;
  rateOut: number | null;
  /** Bytes so far, in plus out; null without counters. */
  total: number | null;
  /** False for sockets the kernel keeps no byte counters for (UDP and others): shown as n/a, never 0. */
  counted: boolean;
}

export interface ProcessRow {
  kind: 'process';
  /** `pid:123`, or `none` for the connections without a visible owner. */
  id: string;
  pid: number | null;
  /** `python3 app.py`, inert. */
  name: string;
  /** The whole command line, inert; '' when unknown. Shown beside the name where the terminal is wide. */
  command: string;
  rateIn: number;
  rateOut: number;
  total: number;
  /** Its connections in view (listeners not counted), and of those the ones without counters. */
  sockets: number;
  uncounted: number;
  /** Its listeners in view (listed under it, no traffic of their own). */
  listeners: number;
  /** False when none of its sockets has counters (UDP only): its numbers are n/a, not 0. */
  counted: boolean;
  /** Connections of the interval that closed (their bytes are in the numbers). */
  closed: number;
  connections: ConnectionRow[];
}

export interface TopRows {
  processes: ProcessRow[];
  /** The machine: every connection, whatever the filter. */
  totals: TrafficSum;
  /** Sockets in view (after the filter) and in all. */
  shown: number;
  all: number;
}

/** Whether the kernel counts this socket's bytes: TCP's do (a listener's traffic is its connections'), UDP's do not. */
export function hasCounters(s: Socket): boolean {
  return s.bytesIn !== null || s.bytesOut !== null || (s.listening && (s.protocol === 'tcp' || s.protocol === 'mptcp'));
}

function connectionRow(s: Socket): ConnectionRow {
  const counted = hasCounters(s);
  return {
    kind: 'connection',
    id: s.id,
    socket: s,
    rateIn: counted ? (s.rateIn ?? null) : null,
    rateOut: counted ? (s.rateOut ?? null) : null,
    total: counted && !s.listening ? (s.bytesIn ?? 0) + (s.bytesOut ?? 0) : null,
    counted,
  };
}

/** The rate a row sorts by under `k`. */
function rateKey(r: { rateIn: number | null; rateOut: number | null; total: number | null }, k: SortKey): number {
  switch (k) {
    case 'in':
      return r.rateIn ?? -1;
    case 'out':
      return r.rateOut ?? -1;
    case 'total':
      return r.total ?? -1;
    default:
      return r.rateIn === null && r.rateOut === null ? -1 : (r.rateIn ?? 0) + (r.rateOut ?? 0);
  }
}

function compareProcesses(k: SortKey): (a: ProcessRow, b: ProcessRow) => number {
  const byName = (a: ProcessRow, b: ProcessRow): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const byPid = (a: ProcessRow, b: ProcessRow): number => (a.pid ?? Number.MAX_SAFE_INTEGER) - (b.pid ?? Number.MAX_SAFE_INTEGER);
  if (k === 'name') return (a, b) => byName(a, b) || byPid(a, b);
  if (k === 'pid') return byPid;
  // busiest first; ties by total bytes, then name and pid, so equal rows keep one order from poll to poll
  // the ownerless group goes after the processes it ties with (at rest, every row ties at 0 B/s)
  return (a, b) => rateKey(b, k) - rateKey(a, k) || b.total - a.total || Number(a.pid === null) - Number(b.pid === null) || byName(a, b) || byPid(a, b);
}

function compareConnections(k: SortKey): (a: ConnectionRow, b: ConnectionRow) => number {
  const rated = k === 'name' || k === 'pid' ? 'rate' : k;
  return (a, b) =>
    rateKey(b, rated) - rateKey(a, rated) ||
    (b.total ?? -1) - (a.total ?? -1) ||
    Number(a.socket.listening) - Number(b.socket.listening) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function commandOf(s: Socket): string {
  return s.process && s.process.cmdline.length > 0 ? inert(s.process.cmdline.join(' ')) : '';
}

/** The process a row stands for, named as people think of it; why there is none for ownerless connections. */
function ownerName(s: Socket): string {
  if (s.process) return inert(processSummary(s.process));
  return `(${describeNoOwner(s.noOwner ?? (s.ownerHidden ? 'hidden' : 'not-found'))})`;
}

/**
 * The rows of one poll: the sockets that match `query`, grouped by their primary owner (the ownerless ones in
 * one group), each group's rates and bytes summed from its counted sockets plus the bytes of its connections
 * that closed during the interval (`closed`, spread over `intervalMs`; counted only without a query, which
 * matches sockets, not closed records). Sorted by `sort`, connections inside a process too.
 */
export function buildRows(sockets: readonly Socket[], closed: readonly ClosedConnection[], intervalMs: number, sort: SortKey, query: Query | null): TopRows {
  const groups = new Map<string, ProcessRow>();
  let shown = 0;
  for (const s of sockets) {
    if (query !== null && !matchesQuery(query, s)) continue;
    shown++;
    const id = s.pid === null ? 'none' : `pid:${s.pid}`;
    let g = groups.get(id);
    if (!g) {
      g = {
        kind: 'process',
        id,
        pid: s.pid,
        name: s.pid === null ? '(no owner)' : ownerName(s),
        command: commandOf(s),
        rateIn: 0,
        rateOut: 0,
        total: 0,
        sockets: 0,
        uncounted: 0,
        listeners: 0,
        counted: false,
        closed: 0,
        connections: [],
      };
      groups.set(id, g);
    } else if (g.pid !== null && s.process && g.name.startsWith('(')) {
      g.name = ownerName(s);
      g.command = commandOf(s);
    }
    const row = connectionRow(s);
    g.connections.push(row);
    // a listener carries no traffic: it is listed, not counted as a connection
    if (row.counted) g.counted = true;
    if (s.listening) {
      g.listeners++;
      continue;
    }
    g.sockets++;
    if (!row.counted) g.uncounted++;
    g.rateIn += row.rateIn ?? 0;
    g.rateOut += row.rateOut ?? 0;
    g.total += row.total ?? 0;
  }
  if (query === null) {
    for (const c of closed) {
      const g = groups.get(c.pid === null ? 'none' : `pid:${c.pid}`);
      if (!g) continue;
      const r = closedRate(c, intervalMs);
      g.closed++;
      g.counted = true;
      g.rateIn += r.rateIn;
      g.rateOut += r.rateOut;
      g.total += (c.bytesIn ?? 0) + (c.bytesOut ?? 0);
    }
  }
  const processes = [...groups.values()];
  const byConnection = compareConnections(sort);
  for (const p of processes) p.connections.sort(byConnection);
  processes.sort(compareProcesses(sort));
  return { processes, totals: totalTraffic(sockets, closed, intervalMs), shown, all: sockets.length };
}

/** A line of the list: a process, or one of an expanded process's connections. */
export type Item = ProcessRow | ConnectionRow;

/** The list as shown: every process, and under each expanded one its connections. */
export function visibleItems(rows: readonly ProcessRow[], expanded: ReadonlySet<string>): Item[] {
  const items: Item[] = [];
  for (const p of rows) {
    items.push(p);
    if (expanded.has(p.id)) items.push(...p.connections);
  }
  return items;
}

/**
 * Where the selection is after the rows changed: on the same item (by id) if it is still listed, else on the
 * nearest index; -1 for an empty list.
 */
export function reselect(items: readonly Item[], selectedId: string | null, previousIndex: number): number {
  if (items.length === 0) return -1;
  if (selectedId !== null) {
    const i = items.findIndex((it) => it.id === selectedId);
    if (i >= 0) return i;
  }
  return Math.max(0, Math.min(previousIndex, items.length - 1));
}

/** The first item of a window of `height` rows that keeps `selected` in view, moving as little as it can. */
export function scrollTop(top: number, selected: number, height: number, count: number): number {
  if (height <= 0) return 0;
  let t = Math.min(top, Math.max(0, count - height));
  if (selected < t) t = selected;
  if (selected >= t + height) t = selected - height + 1;
  return Math.max(0, t);
}

/** The columns of the list at a terminal width: the name takes what the numbers leave. */
export interface Columns {
  name: number;
  pid: number;
  rateIn: number;
  rateOut: number;
  /** 0 when the terminal is too narrow for it. */
  total: number;
  conns: number;
}

const PID_W = 7;
const RATE_W = 10;
const TOTAL_W = 8;
const CONNS_W = 5;
const MIN_NAME = 12;
/** A name column this wide shows a connection's local address, not just its port. */
const WIDE_NAME = 56;

/**
 * Column widths for `width` terminal cells, one space between columns, never wider than the terminal (Ink
 * would wrap the line, and the screen would jump): CONNS goes first when it is narrow, then TOTAL, then PID.
 */
export function fitColumns(width: number): Columns {
  const w = Math.max(20, width);
  const cols: Columns = { name: 0, pid: PID_W, rateIn: RATE_W, rateOut: RATE_W, total: TOTAL_W, conns: CONNS_W };
  const used = (): number =>
    cols.pid + cols.rateIn + cols.rateOut + cols.total + cols.conns + [cols.pid, cols.total, cols.conns].filter((x) => x > 0).length + 2;
  for (const drop of ['conns', 'total', 'pid'] as const) {
    if (w - used() >= MIN_NAME) break;
    cols[drop] = 0;
  }
  cols.name = Math.max(1, w - used());
  return cols;
}

/** Cut to `n` cells (a … marks the cut); code points, not UTF-16 units, so a cut never splits a character. */
export function clip(text: string, n: number): string {
  const chars = [...text];
  if (chars.length <= n) return text;
  return n <= 0 ? '' : `${chars.slice(0, n - 1).join('')}…`;
}

function pad(text: string, n: number): string {
  const c = clip(text, n);
  return c + ' '.repeat(Math.max(0, n - [...c].length));
}

function padStart(text: string, n: number): string {
  const c = clip(text, n);
  return ' '.repeat(Math.max(0, n - [...c].length)) + c;
}

/** What a rate cell shows: `n/a` without counters (UDP: see the legend), `…` before the second poll. */
export function rateCell(rate: number | null, counted: boolean): string {
  if (!counted) return 'n/a';
  return rate === null ? '…' : `${formatBytes(rate)}/s`;
}

/** A row of the table from its cells, fitted to `cols`. */
function line(cols: Columns, name: string, pid: string, rin: string, rout: string, total: string, conns: string): string {
  let out = pad(name, cols.name);
  if (cols.pid > 0) out += ' ' + padStart(pid, cols.pid);
  out += ' ' + padStart(rin, cols.rateIn) + ' ' + padStart(rout, cols.rateOut);
  if (cols.total > 0) out += ' ' + padStart(total, cols.total);
  if (cols.conns > 0) out += ' ' + padStart(conns, cols.conns);
  return out;
}

const ARROW: Record<string, string> = { in: '<-', out: '->' };

/** TCP states in the CONNS column's five cells. */
const SHORT_STATE: Record<string, string> = {
  ESTABLISHED: 'ESTAB',
  SYN_SENT: 'SYNS',
  SYN_RECV: 'SYNR',
  FIN_WAIT1: 'FINW1',
  FIN_WAIT2: 'FINW2',
  TIME_WAIT: 'TIMEW',
  CLOSE_WAIT: 'CLOSW',
  LAST_ACK: 'LASTA',
  CLOSING: 'CLOSG',
};

/** The heading of the table, marking the column the rows are sorted by. */
export function headerLine(cols: Columns, sort: SortKey): string {
  const mark = (label: string, k: SortKey): string => (sort === k ? `${label}*` : label);
  return line(
    cols,
    mark('PROCESS', 'name'),
    mark('PID', 'pid'),
    mark('IN', sort === 'rate' ? 'rate' : 'in'),
    mark('OUT', sort === 'rate' ? 'rate' : 'out'),
    mark('TOTAL', 'total'),
    'CONNS',
  );
}

/** One item as a line of `cols`: a process, or an indented connection (`tcp 127.0.0.1:5000 <- 127.0.0.1:41522`). */
export function itemLine(item: Item, cols: Columns, expanded: boolean): string {
  if (item.kind === 'process') {
    const allUncounted = !item.counted;
    const conns = `${item.sockets}${item.uncounted > 0 && !allUncounted ? '*' : ''}`;
    return line(
      cols,
      // a wide terminal has room for the command line: which python3 fast.py, started how
      `${expanded ? '-' : '+'} ${item.name}${cols.name >= WIDE_NAME && item.command !== '' ? `  ${item.command}` : ''}`,
      item.pid === null ? '-' : String(item.pid),
      allUncounted ? 'n/a' : `${formatBytes(item.rateIn)}/s`,
      allUncounted ? 'n/a' : `${formatBytes(item.rateOut)}/s`,
      allUncounted ? 'n/a' : formatBytes(item.total),
      conns,
    );
  }
  const s = item.socket;
  const proto = s.family === 6 ? `${s.protocol}6` : s.protocol;
  // at 80 columns a full local address leaves the remote end cut: the local port alone says which service
  // (in) or which ephemeral port (out); wider terminals get the address too
  const local = cols.name >= WIDE_NAME || s.listening ? formatEndpoint(s.localAddress, s.localPort) : `:${s.localPort}`;
  const where = s.listening
    ? `${local} ${s.state}`
    : `${local} ${ARROW[s.direction ?? ''] ?? '--'}${s.directionGuessed ? '?' : ''} ${formatEndpoint(s.remoteAddress, s.remotePort)}`;
  return line(
    cols,
    inert(`   ${proto} ${where}`),
    '',
    // a TCP listener's traffic is its connections'; a UDP socket's is counted nowhere: n/a
    s.listening && item.counted ? '' : rateCell(item.rateIn, item.counted),
    s.listening && item.counted ? '' : rateCell(item.rateOut, item.counted),
    s.listening && item.counted ? '' : item.counted ? formatBytes(item.total) : 'n/a',
    s.listening ? '' : (SHORT_STATE[s.state] ?? s.state),
  );
}

/** The header's lines: machine totals and counts, the sort, the filter, and, when frozen, how many polls behind. */
export function summaryLines(
  rows: TopRows,
  o: { width: number; sort: SortKey; filter: string; frozen: number | null; intervalMs: number; source: string | null },
): string[] {
  const t = rows.totals;
  const first = `portwatch top  in ${formatBytes(t.rateIn)}/s  out ${formatBytes(t.rateOut)}/s  ${rows.processes.length} processes  ${rows.shown}${rows.shown === rows.all ? '' : `/${rows.all}`} sockets${t.closed > 0 ? `  ${t.closed} closed` : ''}`;
  const second = `every ${o.intervalMs / 1000}s${o.source ? ` (${o.source})` : ''}  sort: ${o.sort}${o.filter ? `  filter: ${inert(o.filter)}` : ''}${o.frozen === null ? '' : `  FROZEN, ${o.frozen} poll${o.frozen === 1 ? '' : 's'} behind (space resumes)`}`;
  return [clip(first, o.width), clip(second, o.width)];
}

/** The keys, and what n/a and * mean, fitted to the width. */
export function legendLine(width: number): string {
  return clip('q quit s sort / filter space freeze enter open k kill | n/a,*: no counters (UDP)', width);
}

/** The lines of a connection's details (the enter key), inert. */
export function detailLines(c: ConnectionRow, width: number): string[] {
  const s = c.socket;
  const p = s.process;
  const lines = [
    `${s.family === 6 ? `${s.protocol}6` : s.protocol} ${s.state}${s.direction ? `  direction ${s.direction}${s.directionGuessed ? ' (a guess)' : ''}` : ''}`,
    `local   ${formatEndpoint(s.localAddress, s.localPort, s.interface)}`,
    `remote  ${formatEndpoint(s.remoteAddress, s.remotePort)}`,
    `rate    in ${rateCell(c.rateIn, c.counted)}  out ${rateCell(c.rateOut, c.counted)}`,
    c.counted
      ? `bytes   in ${formatBytes(s.bytesIn)}  out ${formatBytes(s.bytesOut)}${s.rttMs === null ? '' : `  rtt ${s.rttMs} ms`}`
      : 'bytes   n/a: the kernel keeps no byte counters for this protocol',
    `process ${p ? `${p.name} (pid ${p.pid}${p.user ? `, user ${p.user}` : ''})` : s.pid === null ? `(${describeNoOwner(s.noOwner ?? 'not-found')})` : `pid ${s.pid}`}`,
    ...(p ? [`command ${p.cmdline.join(' ')}`] : []),
    ...(s.pids.length > 1 ? [`shared  with pids ${s.pids.filter((x) => x !== s.pid).join(', ')}`] : []),
    '',
    'esc or enter: back',
  ];
  return lines.map((l) => clip(inert(l), width));
}

/**
 * The kill confirmation, in the CLI's words (`Kill NAME (pid N, user U), which listens on tcp/80?`), then what
 * the process holds: its listeners and its connections, a few of each. Inert.
 */
export function killPromptLines(plan: KillPlan, width: number, guard: string | null, max = 8): string[] {
  const name = plan.process?.name ?? `pid ${plan.pid}`;
  const user = plan.process?.user ?? null;
  const label = `${name} (pid ${plan.pid}${user ? `, user ${user}` : ''}), which ${describeHoldings(plan)}`;
  const lines: string[] = [];
  const listeners = plan.sockets.filter((s) => s.listening);
  const conns = plan.sockets.filter((s) => !s.listening);
  for (const s of listeners.slice(0, max)) lines.push(`  listens  ${s.protocol} ${formatEndpoint(s.localAddress, s.localPort)}`);
  if (listeners.length > max) lines.push(`  ... and ${listeners.length - max} more listeners`);
  for (const s of conns.slice(0, max))
    lines.push(`  connected ${s.protocol} ${formatEndpoint(s.localAddress, s.localPort)} - ${formatEndpoint(s.remoteAddress, s.remotePort)} ${s.state}`);
  if (conns.length > max) lines.push(`  ... and ${conns.length - max} more connections`);
  if (plan.sharedWith) lines.push(`  its sockets are shared with ${plan.sharedWith.name} (pid ${plan.sharedWith.pid}): they stay open`);
  const head = guard
    ? [`Refused to kill ${label}: ${guard}`, ...lines, '', 'any key: back']
    : [`Kill ${label}?`, ...lines, '', 'y: kill (SIGTERM)  any other key: cancel [y/N]'];
  return head.flatMap((l) => wrap(inert(l), width));
}

/** Text broken into lines of at most `width` characters, at spaces where it can (a prompt is read whole). */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let rest = [...text];
  const w = Math.max(1, width);
  while (rest.length > w) {
    const cut = rest.lastIndexOf(' ', w);
    const at = cut > 0 ? cut : w;
    out.push(rest.slice(0, at).join(''));
    rest = rest.slice(cut > 0 ? at + 1 : at);
  }
  out.push(rest.join(''));
  return out;
}

/** The filter being typed, and under it where the query is wrong (a caret at the position, and the message). */
export function filterEditLines(text: string, error: { message: string; position: number } | null, width: number): string[] {
  const prompt = '/ ';
  const lines = [clip(prompt + inert(text), width)];
  if (error)
    lines.push(
      clip(' '.repeat(prompt.length + Math.min(error.position, text.length)) + `^ at character ${error.position + 1}: ${inert(error.message)}`, width),
    );
  else lines.push(clip('enter: apply  esc: cancel', width));
  return lines;
}
