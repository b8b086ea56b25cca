import {
  describeNoOwner,
  formatBytes,
  formatEndpoint,
  formatLocal,
  groupOwnerOf,
  lastOwnerMark,
  lastOwnerOf,
  type ProcessInfo,
  type Socket,
} from '../../../shared/model';
import { formatRate, hasCounters } from '../../../shared/traffic';
import { processKey } from './sparkHistory';
import { commandLine, processSummary } from '../../../shared/processSummary';
import { matchesQuickFilters } from '../../../shared/quickFilters';
import { matchesQuery, type MatchContext, type QueryParse } from '../../../shared/query';
import { serviceLabel } from '../../../shared/devPorts';
import { serviceName } from '../../../shared/services';
import type { Row } from './socketStore';

/** Pure view logic: filter, sort and group the shown rows. No React, no DOM. */

/** `tree`: process, then remote host, then remote port (store/tree.ts), with the traffic summed at each level. */
export const GROUP_BY = ['process', 'tree', 'local-port', 'remote-host', 'direction', 'state', 'netns', 'none'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export const COLUMNS = ['proto', 'local', 'service', 'remote', 'host', 'state', 'pid', 'process', 'user', 'age', 'rateIn', 'rateOut', 'bytes'] as const;
export type Column = (typeof COLUMNS)[number];
export const COLUMN_TITLES: Record<Column, string> = {
  proto: 'Proto',
  local: 'Local address',
  service: 'Service',
  remote: 'Remote address',
  host: 'Remote host',
  state: 'State',
  pid: 'PID',
  process: 'Process',
  user: 'User',
  age: 'Age',
  rateIn: 'In/s',
  rateOut: 'Out/s',
  bytes: 'Bytes',
};

const counted = hasCounters;

/** A rate cell: `n/a` without counters (never a fake 0), `…` on first sight (the rate comes with the next poll). */
function rateText(s: Socket, rate: number | null | undefined): string {
  // a TCP listener carries no bytes itself; an unconnected UDP socket is where a UDP server's traffic is
  if (s.listening && s.protocol === 'tcp') return '';
  if (!counted(s)) return 'n/a';
  return rate === null || rate === undefined ? '…' : formatRate(rate);
}

/** Which way a connection goes, as an arrow: ← came in to a listener here, → went out; `?` marks a guess. */
export function directionMark(s: Socket): string {
  if (s.direction === null || s.direction === undefined) return '';
  return `${s.direction === 'in' ? '←' : '→'}${s.directionGuessed ? '?' : ''}`;
}

export interface Toggles {
  listening: boolean;
  established: boolean;
  tcp: boolean;
  udp: boolean;
  ipv4: boolean;
  ipv6: boolean;
  hideLoopback: boolean;
  hideTimeWait: boolean;
}
export const NO_TOGGLES: Toggles = {
  listening: false,
  established: false,
  tcp: false,
  udp: false,
  ipv4: false,
  ipv6: false,
  hideLoopback: false,
  hideTimeWait: false,
};

export interface ViewContext extends MatchContext {
  hostName: (address: string) => string | undefined;
  /** For listeners: does the baseline expect it? null for other sockets. */
  expected?: (s: Socket) => boolean | null;
  /** Why a socket without byte counters has none, as the status says (UDP without conntrack, a source without counters). */
  noCounters?: string;
}

/**
 * Toggles of one kind widen (TCP + UDP = both); kinds narrow each other; none on in a kind = no limit. A query
 * that does not parse shows nothing (the search box says why), never everything.
 */
export function filterRows(rows: readonly Row[], t: Toggles, query: QueryParse, ctx: ViewContext): Row[] {
  const out: Row[] = [];
  if (!query.ok) return out;
  for (const r of rows) {
    const s = r.socket;
    if (!matchesQuickFilters(t, s)) continue;
    if (!matchesQuery(query.query, s, ctx)) continue;
    out.push(r);
  }
  return out;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const STATE_ORDER: Record<string, number> = { LISTEN: 0, UNCONN: 1, ESTABLISHED: 2 };

/** The text a column shows for a socket (also what it sorts by, for text columns). */
export function cellText(col: Column, r: Row, ctx: ViewContext, now: number): string {
  const s = r.socket;
  switch (col) {
    case 'proto':
      return `${s.protocol}${s.family === 6 ? '6' : ''}`;
    case 'local':
      return formatLocal(s);
    case 'service':
      return serviceLabel(s.localPort, s.protocol)?.text ?? '';
    case 'remote': {
      const mark = directionMark(s);
      return `${mark ? `${mark} ` : ''}${formatEndpoint(s.remoteAddress, s.remotePort)}`;
    }
    case 'rateIn':
      return rateText(s, s.rateIn);
    case 'rateOut':
      return rateText(s, s.rateOut);
    case 'bytes':
      return s.listening && s.protocol === 'tcp' ? '' : counted(s) ? formatBytes((s.bytesIn ?? 0) + (s.bytesOut ?? 0)) : 'n/a';
    case 'host':
      return s.remoteAddress === null ? '' : (ctx.hostName(s.remoteAddress) ?? '');
    case 'state':
      return s.state;
    case 'pid':
      return s.pid === null ? '' : s.pids.length > 1 ? `${s.pid} +${s.pids.length - 1}` : String(s.pid);
    case 'process':
      return ownerText(s);
    case 'user':
      return s.user ?? (s.uid === null ? '' : String(s.uid));
    case 'age': {
      // honest for what the first state already held: no older than its process, no younger than the first look
      if (r.seenOpen) return formatAge(now - r.firstSeen);
      const start = r.socket.process?.startTime ?? null;
      return start !== null && start <= r.firstSeen ? `≤ ${formatAge(now - start)}` : `≥ ${formatAge(now - r.firstSeen)}`;
    }
  }
}

/** When a row opened, as well as this window knows: when it saw it appear, else its process's start, else the first look. */
function openedAt(r: Row): number {
  if (r.seenOpen) return r.firstSeen;
  const start = r.socket.process?.startTime ?? null;
  return start !== null && start <= r.firstSeen ? start : r.firstSeen;
}

/**
 * Who a row belongs to, as people tell processes apart (`python3 sneaky.py`, not `python3`); a socket no process
 * holds now names its last owner, marked as closed (the kernel holds the connection) or released.
 */
export function ownerText(s: Socket): string {
  if (s.process) return processSummary(s.process);
  const last = lastOwnerOf(s);
  if (last) return `${processSummary(last)} (${lastOwnerMark(s)})`;
  return noOwnerLabel(s) ?? '';
}

/** The tooltip of a cell: its whole text, and for the process the whole command line. */
export function cellTitle(col: Column, r: Row, text: string, ctx?: Pick<ViewContext, 'noCounters'>): string {
  const s = r.socket;
  if (col === 'process') {
    if (s.process) return `${commandLine(s.process)} (pid ${s.process.pid})`;
    const last = lastOwnerOf(s);
    if (last) return `${s.noOwner === 'closed' ? 'closed' : 'released: no process holds it now'}; last held by ${commandLine(last)} (pid ${last.pid})`;
  }
  if (col === 'remote' && s.direction) {
    return `${text}: ${s.direction === 'in' ? 'came in to a listener here' : 'opened from this host'}${s.directionGuessed ? ' (a guess: no listener and not from the ephemeral range)' : ''}`;
  }
  if ((col === 'rateIn' || col === 'rateOut' || col === 'bytes') && text === 'n/a')
    return `n/a: ${s.protocol === 'udp' || s.protocol === 'udplite' ? (ctx?.noCounters ?? 'the kernel keeps no byte counters per UDP socket') : 'no byte counters for this socket from this source'}`;
  if ((col === 'rateIn' || col === 'rateOut') && text === '…') return 'first seen this poll: its rate comes with the next one';
  if (col === 'age' && !r.seenOpen) {
    return text.startsWith('≤')
      ? `${text}: already there at this window's first look; its process started then, so it is no older (unless inherited)`
      : `${text}: already there at this window's first look, so open at least this long`;
  }
  return text;
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** Compares two rows by a column. Plain comparisons: localeCompare is too slow for 10,000 rows. */
export function compareRows(col: Column, a: Row, b: Row, ctx: ViewContext): number {
  const x = a.socket;
  const y = b.socket;
  switch (col) {
    case 'local':
      return cmp(x.localAddress, y.localAddress) || x.localPort - y.localPort;
    case 'remote':
      return cmp(x.remoteAddress ?? '', y.remoteAddress ?? '') || (x.remotePort ?? -1) - (y.remotePort ?? -1);
    case 'state':
      return (STATE_ORDER[x.state] ?? 3) - (STATE_ORDER[y.state] ?? 3) || cmp(x.state, y.state);
    case 'pid':
      return (x.pid ?? -1) - (y.pid ?? -1);
    case 'age':
      return openedAt(b) - openedAt(a);
    case 'rateIn':
    case 'rateOut':
    case 'bytes':
      return trafficValue(col, y) - trafficValue(col, x);
    default:
      return cmp(cellText(col, a, ctx, 0), cellText(col, b, ctx, 0));
  }
}

/** The sort key of a row for a column: a number where the column is numeric, else the text shown. */
function sortKey(col: Column, r: Row, ctx: ViewContext): number | string {
  const s = r.socket;
  switch (col) {
    case 'local':
      return `${s.localAddress}\u0000${String(s.localPort).padStart(5, '0')}`;
    case 'remote':
      return s.remoteAddress === null ? '' : `${s.remoteAddress}\u0000${String(s.remotePort).padStart(5, '0')}`;
    case 'state':
      return (STATE_ORDER[s.state] ?? 3) * 100 + s.state.charCodeAt(0);
    case 'pid':
      return s.pid ?? -1;
    case 'age':
      return -openedAt(r);
    case 'rateIn':
    case 'rateOut':
    case 'bytes':
      // busiest first when ascending would be odd: the numbers sort as numbers, what has none last
      return -trafficValue(col, s);
    default:
      return cellText(col, r, ctx, 0);
  }
}

function trafficValue(col: 'rateIn' | 'rateOut' | 'bytes', s: Socket): number {
  if (col === 'bytes') return counted(s) ? (s.bytesIn ?? 0) + (s.bytesOut ?? 0) : -1;
  const v = col === 'rateIn' ? s.rateIn : s.rateOut;
  return v === null || v === undefined ? -1 : v;
}

/**
 * Sorted copy; ties keep a stable, meaningful order (state, then local port, then id). Keys are computed
 * once per row (not once per comparison): ten thousand rows sort in a few milliseconds.
 */
export function sortRows(rows: readonly Row[], col: Column, dir: 1 | -1, ctx: ViewContext): Row[] {
  const keyed = rows.map((r) => ({ r, k: sortKey(col, r, ctx), st: STATE_ORDER[r.socket.state] ?? 3 }));
  keyed.sort((a, b) => {
    const d = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
    return dir * d || a.st - b.st || a.r.socket.localPort - b.r.socket.localPort || cmp(a.r.socket.id, b.r.socket.id);
  });
  return keyed.map((x) => x.r);
}

export interface Group {
  key: string;
  /** In process grouping: the process (for its Kill action). */
  process?: ProcessInfo;
  /** Listeners in it that the baseline does not expect. */
  unexpected?: number;
  label: string;
  /** The heading's tooltip: a process group's whole command line. */
  title?: string;
  /**
   * Kernel-held sockets (no owner: closed; TIME_WAIT, orphaned FIN_WAIT): quiet noise, so the group is folded
   * until opened and sorted last.
   */
  folded?: boolean;
  /** pid, user: what else identifies the group. */
  detail: string;
  /** The owner exists but is not visible. */
  hidden: boolean;
  rows: Row[];
  listening: number;
  ports: number[];
  /** Every row of it has closed: its process (if any) has exited, nothing of it is left to act on. */
  gone?: boolean;
}

/** What the UI says for a socket without a visible owner (the engine says why), or null when it has one. */
export function noOwnerLabel(s: Socket): string | null {
  if (s.noOwner !== null) return describeNoOwner(s.noOwner);
  return s.ownerHidden ? describeNoOwner('hidden') : null;
}

/** A namespace's name in groups and details: its container when known, else its id. */
export function netnsLabel(s: Pick<Socket, 'netns' | 'container'>): string {
  if (s.netns === null) return "this machine's namespace";
  return s.container ? `container ${s.container} (${s.netns})` : s.netns;
}

/** The group key of the kernel-held sockets in process grouping. */
export const KERNEL_HELD_KEY = 'none';

/**
 * A client's end of a connection: its local port is no listener's (of its protocol), so it is an ephemeral port
 * the kernel picked; it means nothing alone, the remote port it talks to does. `listeners` holds
 * `protocol:port` of every listener on the machine (listenerPorts), not just the rows in view.
 */
export function isClientEnd(s: Socket, listeners: ReadonlySet<string>): boolean {
  return !s.listening && s.remotePort !== null && !listeners.has(`${s.protocol}:${s.localPort}`);
}

/** `protocol:port` of every listener among the rows (closed ones too: their connections linger). */
export function listenerPorts(rows: readonly Row[]): Set<string> {
  const out = new Set<string>();
  for (const r of rows) if (r.socket.listening) out.add(`${r.socket.protocol}:${r.socket.localPort}`);
  return out;
}

type GroupHead = Pick<Group, 'key' | 'label' | 'detail' | 'hidden' | 'process' | 'title' | 'folded'>;

/** A process group's heading: named as people tell processes apart, the command line as its tooltip. */
function processHead(p: ProcessInfo): GroupHead {
  return { key: processKey(p), label: processSummary(p), title: commandLine(p), detail: `pid ${p.pid}${p.user ? ` · ${p.user}` : ''}`, hidden: false };
}

function groupKey(mode: GroupBy, r: Row, ctx: ViewContext, listeners: ReadonlySet<string>): GroupHead {
  const s = r.socket;
  switch (mode) {
    case 'process':
    case 'tree': {
      const owner = groupOwnerOf(s);
      if (s.process) return { ...processHead(s.process), process: s.process };
      // released by its owner (caught in its exit): it stays in that process's group, which names it but
      // offers no Kill unless a live row of the process joins it (groupRows)
      if (owner) return processHead(owner);
      if (s.pid !== null) return { key: `p:${s.pid}:`, label: `pid ${s.pid}`, detail: '', hidden: false };
      if (s.ownerHidden) return { key: `hidden:${s.uid}`, label: noOwnerLabel(s) ?? '', detail: s.user ?? `uid ${s.uid ?? '?'}`, hidden: true };
      if (s.noOwner === 'not-found') return { key: `nf:${s.uid}`, label: describeNoOwner('not-found'), detail: s.user ?? `uid ${s.uid ?? '?'}`, hidden: false };
      return { key: KERNEL_HELD_KEY, label: 'no owner (closed): kernel-held, TIME_WAIT and such', detail: '', hidden: false, folded: true };
    }
    case 'local-port': {
      if (s.remotePort !== null && isClientEnd(s, listeners)) {
        const svc = serviceName(s.remotePort, s.protocol);
        return {
          key: `${s.protocol}:→${s.remotePort}`,
          label: `→ :${s.remotePort} (clients)`,
          title: `Connections from ephemeral local ports to remote port ${s.remotePort}`,
          detail: `${s.protocol}${svc ? ` · ${svc}` : ''}`,
          hidden: false,
        };
      }
      const svc = serviceName(s.localPort, s.protocol);
      return { key: `${s.protocol}:${s.localPort}`, label: `:${s.localPort}`, detail: `${s.protocol}${svc ? ` · ${svc}` : ''}`, hidden: false };
    }
    case 'remote-host': {
      if (s.remoteAddress === null) return { key: '-', label: 'no remote end (listening, unconnected)', detail: '', hidden: false };
      const name = ctx.hostName(s.remoteAddress);
      return { key: `h:${s.remoteAddress}`, label: name ?? s.remoteAddress, detail: name ? s.remoteAddress : '', hidden: false };
    }
    case 'direction': {
      const way = s.direction ?? null;
      if (way === null)
        return s.listening || s.remoteAddress === null
          ? { key: 'd:none', label: 'listening and unconnected', detail: '', hidden: false }
          : { key: 'd:unknown', label: 'direction not known', detail: 'no poll loop has judged it yet', hidden: false };
      return way === 'in'
        ? { key: 'd:in', label: '← incoming', detail: 'remote ends that connected to a listener here', hidden: false }
        : { key: 'd:out', label: '→ outgoing', detail: 'connections this host opened', hidden: false };
    }
    case 'state':
      return { key: `s:${s.state}`, label: s.state, detail: '', hidden: false };
    case 'netns':
      return { key: `n:${s.netns ?? ''}`, label: netnsLabel(s), detail: s.netns === null ? '' : 'network namespace', hidden: false };
    case 'none':
      return { key: 'all', label: 'All sockets', detail: '', hidden: false };
  }
}

/** A cheap identity for a row's group (a number or a short string); the group is described once. */
function quickKey(mode: GroupBy, r: Row, listeners: ReadonlySet<string>): number | string {
  const s = r.socket;
  switch (mode) {
    case 'process':
    case 'tree': {
      const owner = groupOwnerOf(s);
      if (owner) return owner.pid;
      if (s.pid !== null) return s.pid;
      if (s.ownerHidden) return `h${s.uid}`;
      if (s.noOwner === 'not-found') return `nf${s.uid}`;
      return 'none';
    }
    case 'local-port':
      if (s.remotePort !== null && isClientEnd(s, listeners)) return `${s.protocol}:→${s.remotePort}`;
      return s.protocol === 'tcp' ? s.localPort * 2 : s.protocol === 'udp' ? s.localPort * 2 + 1 : `${s.protocol}:${s.localPort}`;
    case 'remote-host':
      return s.remoteAddress ?? '-';
    case 'direction':
      return s.direction ?? (s.listening || s.remoteAddress === null ? 'none' : 'unknown');
    case 'state':
      return s.state;
    case 'netns':
      return s.netns ?? '';
    case 'none':
      return 0;
  }
}

/** Where a group sorts: listeners first, then other sockets, kernel-held last; never by a count. */
function groupRank(g: Group): number {
  return g.folded ? 2 : g.listening > 0 ? 0 : 1;
}

/** A stable tie-break after the label: the pid of a process group, else the key. */
function groupTie(a: Group, b: Group): number {
  return (a.process?.pid ?? 0) - (b.process?.pid ?? 0) || cmp(a.key, b.key);
}

/** The number a local-port group sorts by: its port, or for clients the remote port they use. */
function groupPort(g: Group): number {
  return Number(/\d+/.exec(g.label)?.[0] ?? 0);
}

/**
 * Groups rows (already sorted: each group keeps that order). The order of groups is stable between polls: by
 * rank (listeners, others, kernel-held), then name, then pid; never by size, which changes every poll. In
 * Local port grouping, clients' ephemeral ports are grouped under the remote port they use, after the
 * listeners' ports. `all` is every row (before filtering): who listens is a fact of the machine, not of the view.
 */
export function groupRows(rows: readonly Row[], mode: GroupBy, ctx: ViewContext, all: readonly Row[] = rows): Group[] {
  const groups = new Map<number | string, Group>();
  const listeners = mode === 'local-port' ? listenerPorts(all) : new Set<string>();
  for (const r of rows) {
    const q = quickKey(mode, r, listeners);
    let g = groups.get(q);
    if (!g) groups.set(q, (g = { ...groupKey(mode, r, ctx, listeners), rows: [], listening: 0, ports: [] }));
    // a process group headed by a released row: a live row of the process brings the process (its Kill)
    else if (r.socket.process && !g.process && (mode === 'process' || mode === 'tree')) Object.assign(g, groupKey(mode, r, ctx, listeners));
    g.rows.push(r);
    if (r.socket.listening && r.change !== 'closed') {
      g.listening++;
      if (ctx.expected?.(r.socket) === false) g.unexpected = (g.unexpected ?? 0) + 1;
    }
  }
  for (const g of groups.values()) {
    if (g.rows.every((r) => r.change === 'closed')) g.gone = true;
    if (g.listening === 0) continue;
    const ports = new Set<number>();
    for (const r of g.rows) if (r.socket.listening && r.change !== 'closed') ports.add(r.socket.localPort);
    g.ports = [...ports].sort((a, b) => a - b);
  }
  const list = [...groups.values()];
  if (mode === 'state') return list.sort((a, b) => (STATE_ORDER[a.label] ?? 3) - (STATE_ORDER[b.label] ?? 3) || cmp(a.label, b.label));
  if (mode === 'local-port') {
    // a port's own group (listener or not) before the clients' groups; then by port
    const clients = (g: Group): number => Number(g.key.includes('→'));
    return list.sort((a, b) => groupRank(a) - groupRank(b) || clients(a) - clients(b) || groupPort(a) - groupPort(b) || cmp(a.key, b.key));
  }
  return list.sort((a, b) => groupRank(a) - groupRank(b) || cmp(a.label, b.label) || groupTie(a, b));
}

/** Export of the rows in view. */
export function rowsToJson(rows: readonly Row[]): string {
  return JSON.stringify({ exportedAt: Date.now(), sockets: rows.map((r) => r.socket) }, null, 2);
}
