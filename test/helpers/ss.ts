import type { Protocol, SocketState } from '../../src/shared/model';

/** One socket as `ss -tunapeH` (iproute2) prints it: an independent decoding of the same kernel tables. */
export interface SsRow {
  protocol: Protocol;
  state: SocketState;
  localAddress: string;
  localPort: number;
  remoteAddress: string | null;
  remotePort: number | null;
  inode: number;
  uid: number;
  pids: number[];
  names: string[];
}

const SS_STATES: Record<string, SocketState> = {
  ESTAB: 'ESTABLISHED',
  LISTEN: 'LISTEN',
  UNCONN: 'UNCONN',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  CLOSING: 'CLOSING',
  CLOSE: 'CLOSE',
};

function endpoint(text: string): { address: string; port: number | null } {
  const i = text.lastIndexOf(':');
  let address = text.slice(0, i);
  const port = text.slice(i + 1);
  address = address.replace(/^\[(.*)\]$/, '$1').replace(/^\[(.*)\](%.*)$/, '$1$2');
  return { address, port: port === '*' ? null : Number(port) };
}

/** Parses `ss -tunapeH` output. ss prints `*` for a wildcard address (either family). */
export function parseSs(text: string): SsRow[] {
  const rows: SsRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const protocol = f[0] as Protocol;
    if (protocol !== 'tcp' && protocol !== 'udp') continue;
    const state = SS_STATES[f[1] as string];
    if (!state) throw new Error(`unknown ss state ${f[1]} in: ${line}`);
    const local = endpoint(f[4] as string);
    const peer = endpoint(f[5] as string);
    const inode = Number(/ino:(\d+)/.exec(line)?.[1] ?? 0);
    const uid = Number(/uid:(\d+)/.exec(line)?.[1] ?? 0);
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    const names = [...line.matchAll(/\("([^"]*)",pid=/g)].map((m) => m[1] as string);
    const noPeer = peer.port === null || (peer.port === 0 && (peer.address === '*' || peer.address === '0.0.0.0' || peer.address === '::'));
    rows.push({
      protocol,
      state: protocol === 'udp' && state === 'ESTABLISHED' ? 'ESTABLISHED' : state,
      localAddress: local.address,
      localPort: local.port ?? 0,
      remoteAddress: noPeer ? null : peer.address,
      remotePort: noPeer ? null : peer.port,
      inode,
      uid,
      pids: [...new Set(pids)].sort((a, b) => a - b),
      names: [...new Set(names)],
    });
  }
  return rows;
}

/** ss's `*` stands for 0.0.0.0 or ::. */
export function sameAddress(ss: string | null, ours: string | null): boolean {
  if (ss === '*') return ours === '0.0.0.0' || ours === '::';
  return ss === ours;
}
