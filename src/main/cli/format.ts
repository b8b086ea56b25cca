import { formatEndpoint, type Snapshot, type Socket } from '../../shared/model';
export { csvField, formatCsv } from '../../shared/export';

const elevated = typeof process.getuid === 'function' && process.getuid() === 0;

function owner(s: Socket): string {
  if (s.process) return s.process.name;
  if (!s.ownerHidden) return '-';
  // As root every process's fds are readable: an owner still unseen lives in another pid namespace.
  return elevated ? '(owner not visible: another pid namespace)' : '(owner hidden: run elevated to see)';
}

/** A readable table: full addresses and names, never cut; columns sized to their longest cell. */
export function formatTable(sockets: readonly Socket[]): string {
  const header = ['PROTO', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'USER', 'PROCESS'];
  const rows = sockets.map((s) => [
    `${s.protocol}${s.family === 6 ? '6' : ''}`,
    formatEndpoint(s.localAddress, s.localPort) + (s.incomplete ? ' (cut)' : ''),
    formatEndpoint(s.remoteAddress, s.remotePort),
    s.state,
    s.pid === null ? '-' : s.pids.length > 1 ? `${s.pid} +${s.pids.length - 1}` : String(s.pid),
    s.user ?? (s.uid === null ? '-' : String(s.uid)),
    owner(s),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function formatJson(snapshot: Pick<Snapshot, 'takenAt' | 'source'>, sockets: readonly Socket[]): string {
  return JSON.stringify({ takenAt: snapshot.takenAt, source: snapshot.source, sockets }, null, 2) + '\n';
}

/** Listing order: listeners first, then by protocol, local port, local address, remote. */
export function sortForListing(sockets: readonly Socket[]): Socket[] {
  return [...sockets].sort(
    (a, b) =>
      Number(b.listening) - Number(a.listening) ||
      a.protocol.localeCompare(b.protocol) ||
      a.localPort - b.localPort ||
      a.localAddress.localeCompare(b.localAddress) ||
      (a.remoteAddress ?? '').localeCompare(b.remoteAddress ?? '') ||
      (a.remotePort ?? 0) - (b.remotePort ?? 0),
  );
}
