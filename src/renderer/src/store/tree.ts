import { unmapIpv4 } from '../../../shared/model';
import { serviceName } from '../../../shared/services';
import { addRate, type RateSum } from '../../../shared/traffic';
import type { Row } from './rows';
import type { Group, ViewContext } from './view';

/*
 * Tree mode, in the spirit of Little Snitch: process, then the remote hosts it talks to, then the remote ports,
 * then the sockets; the traffic summed at each level. Pure: the process level is process grouping's groups (its
 * order, names and Kill), the levels below are made here, ordered by name and port (never by rate: the list
 * would jump every poll).
 */

/** One heading of the tree. */
export interface TreeNode {
  /** Unique in the tree: the process group's key, then `|h:ADDRESS`, then `|p:PROTO:PORT`. */
  key: string;
  /** 0: process, 1: remote host, 2: remote port. */
  depth: 0 | 1 | 2;
  label: string;
  detail: string;
  title?: string;
  /** The process level's group (for Kill, the hidden-owner style). */
  group?: Group;
  /** Closed until opened: the host and port levels, and the kernel-held process group. */
  folded: boolean;
  rates: RateSum;
  /** Sockets under it. */
  count: number;
}

export type TreeItem = { kind: 'node'; key: string; node: TreeNode; open: boolean } | { kind: 'row'; key: string; row: Row };

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function emptySum(): RateSum {
  return { rateIn: 0, rateOut: 0, counted: 0, uncounted: 0, pending: 0 };
}

/** The rates of rows still open (a closed row lingers a few seconds, highlighted, but carries nothing). */
function sumRows(rows: readonly Row[]): RateSum {
  const r = emptySum();
  for (const x of rows) if (x.change !== 'closed') addRate(r, x.socket);
  return r;
}

/** Splits rows by a key, keeping their order within each part. */
function partition(rows: readonly Row[], keyOf: (r: Row) => string): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const k = keyOf(r);
    let list = out.get(k);
    if (!list) out.set(k, (list = []));
    list.push(r);
  }
  return out;
}

const hostOf = (r: Row): string => (r.socket.remoteAddress === null ? '-' : unmapIpv4(r.socket.remoteAddress));
const portOf = (r: Row): string => {
  const s = r.socket;
  return s.remotePort === null ? `${s.protocol}:local:${s.localPort}` : `${s.protocol}:${s.remotePort}`;
};

/**
 * The keys of the host and port headings a socket sits under, below its process group's `groupKey`: what a
 * reveal ("show me", the keyboard) opens so that the row is in the list.
 */
export function treePath(groupKey: string, r: Row): [host: string, port: string] {
  const host = `${groupKey}|h:${hostOf(r)}`;
  return [host, `${host}|p:${portOf(r)}`];
}

function hostNode(parent: string, host: string, rows: readonly Row[], ctx: ViewContext): TreeNode {
  const key = `${parent}|h:${host}`;
  if (host === '-')
    return { key, depth: 1, label: 'no remote end (listening, unconnected)', detail: '', folded: true, rates: sumRows(rows), count: rows.length };
  const name = ctx.hostName(host);
  return { key, depth: 1, label: name ?? host, detail: name ? host : '', folded: true, rates: sumRows(rows), count: rows.length };
}

function portNode(parent: string, rows: readonly Row[]): TreeNode {
  const s = (rows[0] as Row).socket;
  const local = s.remotePort === null;
  const port = local ? s.localPort : (s.remotePort as number);
  const svc = serviceName(port, s.protocol);
  return {
    key: `${parent}|p:${portOf(rows[0] as Row)}`,
    depth: 2,
    label: local ? `:${port} (local)` : `${s.protocol} :${port}`,
    detail: `${local ? `${s.protocol} ` : ''}${svc ?? ''}`.trim(),
    title: local ? `Local port ${port} (${s.protocol}): no remote end` : `Remote port ${port} (${s.protocol})${svc ? `: ${svc}` : ''}`,
    folded: true,
    rates: sumRows(rows),
    count: rows.length,
  };
}

/** The port a port node sorts by. */
function portNumber(rows: readonly Row[]): number {
  const s = (rows[0] as Row).socket;
  return s.remotePort ?? s.localPort;
}

/**
 * The tree's lines: for each process group (already ordered, its rows already sorted) its heading, then, when
 * open, its hosts, each with its ports, each with its sockets. `open` says whether a heading is open.
 */
export function treeItems(groups: readonly Group[], ctx: ViewContext, open: (n: { key: string; folded?: boolean }) => boolean): TreeItem[] {
  const out: TreeItem[] = [];
  for (const g of groups) {
    const top: TreeNode = {
      key: g.key,
      depth: 0,
      label: g.label,
      detail: g.detail,
      ...(g.title === undefined ? {} : { title: g.title }),
      group: g,
      folded: g.folded === true,
      rates: sumRows(g.rows),
      count: g.rows.length,
    };
    const topOpen = open(top);
    out.push({ kind: 'node', key: `t:${top.key}`, node: top, open: topOpen });
    if (!topOpen) continue;
    const hosts = [...partition(g.rows, hostOf)].sort(([a], [b]) => Number(a === '-') - Number(b === '-') || cmp(a, b));
    for (const [host, hostRows] of hosts) {
      const h = hostNode(g.key, host, hostRows, ctx);
      const hOpen = open(h);
      out.push({ kind: 'node', key: `t:${h.key}`, node: h, open: hOpen });
      if (!hOpen) continue;
      const ports = [...partition(hostRows, portOf).values()].sort((a, b) => portNumber(a) - portNumber(b) || cmp(portOf(a[0] as Row), portOf(b[0] as Row)));
      for (const portRows of ports) {
        const p = portNode(h.key, portRows);
        const pOpen = open(p);
        out.push({ kind: 'node', key: `t:${p.key}`, node: p, open: pOpen });
        if (pOpen) for (const r of portRows) out.push({ kind: 'row', key: r.socket.id, row: r });
      }
    }
  }
  return out;
}
