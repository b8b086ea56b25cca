import type { Socket } from '../../../shared/model';

export interface ProcessGroup {
  key: string;
  /** Process name, or what stands in for one. */
  name: string;
  pid: number | null;
  user: string | null;
  /** The owner exists but Portwatch may not see it (another user's process). */
  hidden: boolean;
  /** In no particular order: sort (bySocket) only what is shown. */
  sockets: Socket[];
  listening: number;
  /** Listening ports, ascending, without repeats. */
  ports: number[];
}

function keyOf(s: Socket): string {
  if (s.process) return `p:${s.process.pid}:${s.process.startTime ?? ''}`;
  if (s.pid !== null) return `p:${s.pid}:`;
  if (s.ownerHidden) return `hidden:${s.uid ?? '?'}`;
  return 'none';
}

const STATE_ORDER: Record<string, number> = { LISTEN: 0, UNCONN: 1, ESTABLISHED: 2 };

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Listeners first, then by protocol, local port, remote. Plain comparisons: localeCompare is too slow at 10k. */
export function bySocket(a: Socket, b: Socket): number {
  return (
    (STATE_ORDER[a.state] ?? 3) - (STATE_ORDER[b.state] ?? 3) ||
    cmp(a.protocol, b.protocol) ||
    a.localPort - b.localPort ||
    cmp(a.remoteAddress ?? '', b.remoteAddress ?? '') ||
    (a.remotePort ?? 0) - (b.remotePort ?? 0)
  );
}

/** What a hidden owner is called: unprivileged, elevating helps; privileged, the owner lives in another pid namespace. */
export function hiddenOwnerLabel(elevated: boolean): string {
  return elevated ? 'owner not visible: another pid namespace' : 'owner hidden: run elevated to see';
}

/** Sockets grouped by owning process: processes with listeners first, then by socket count, then name. */
export function groupByProcess(sockets: Iterable<Socket>, elevated = false): ProcessGroup[] {
  const groups = new Map<string, ProcessGroup>();
  for (const s of sockets) {
    const key = keyOf(s);
    let g = groups.get(key);
    if (!g) {
      g = {
        key,
        name: s.process?.name ?? (s.ownerHidden ? hiddenOwnerLabel(elevated) : s.pid !== null ? `pid ${s.pid}` : 'no process (kernel-held: TIME_WAIT and such)'),
        pid: s.process?.pid ?? s.pid,
        user: s.process?.user ?? s.user,
        hidden: s.process === null && s.ownerHidden,
        sockets: [],
        listening: 0,
        ports: [],
      };
      groups.set(key, g);
    }
    g.sockets.push(s);
    if (s.listening) g.listening++;
  }
  for (const g of groups.values()) {
    if (g.listening === 0) continue;
    const ports = new Set<number>();
    for (const s of g.sockets) if (s.listening) ports.add(s.localPort);
    g.ports = [...ports].sort((a, b) => a - b);
  }
  return [...groups.values()].sort(
    (a, b) => Number(b.listening > 0) - Number(a.listening > 0) || b.sockets.length - a.sockets.length || a.name.localeCompare(b.name),
  );
}
