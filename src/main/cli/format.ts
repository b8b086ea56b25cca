import { inert, inertJson } from '../../shared/inert';
import { describeNoOwner, formatEndpoint, formatLocal, type Snapshot, type Socket } from '../../shared/model';
export { csvField, formatCsv } from '../../shared/export';
/** The one escape for untrusted text on a terminal (see shared/inert); index.ts uses it for kill's prompt. */
export { inert, inertJson };

/** The process, or why there is none, in the engine's words (it knows whether it looked everywhere). */
function owner(s: Socket): string {
  if (s.process) return s.process.name;
  if (s.noOwner !== null) return `(${describeNoOwner(s.noOwner)})`;
  return s.ownerHidden ? `(${describeNoOwner('hidden')})` : '-';
}

/**
 * A readable table: full addresses and names, never cut; columns sized to their longest cell. Every cell is
 * passed through inert(): names, users and addresses come from the system, and other users choose theirs.
 */
export function formatTable(sockets: readonly Socket[]): string {
  // a NETNS column only when some socket lives in another network namespace (root, with containers)
  const namespaces = sockets.some((s) => s.netns !== null);
  const header = ['PROTO', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'USER', ...(namespaces ? ['NETNS'] : []), 'PROCESS'];
  const rows = sockets.map((s) => [
    `${s.protocol}${s.family === 6 ? '6' : ''}`,
    formatLocal(s) + (s.incomplete ? ' (cut)' : ''),
    formatEndpoint(s.remoteAddress, s.remotePort),
    s.state,
    s.pid === null ? '-' : s.pids.length > 1 ? `${s.pid} +${s.pids.length - 1}` : String(s.pid),
    s.user ?? (s.uid === null ? '-' : String(s.uid)),
    ...(namespaces ? [s.netns === null ? '-' : (s.container ?? s.netns)] : []),
    owner(s),
  ].map(inert));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** `list --json`: the model as it is; the characters a terminal would act on are \u escapes (inertJson). */
export function formatJson(snapshot: Pick<Snapshot, 'takenAt' | 'source'>, sockets: readonly Socket[]): string {
  return inertJson(JSON.stringify({ takenAt: snapshot.takenAt, source: snapshot.source, sockets }, null, 2)) + '\n';
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
