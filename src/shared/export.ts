import type { Socket } from './model';

/** CSV export of sockets, the same for the CLI's --csv and the UI's Export. */

export const CSV_COLUMNS = [
  'id',
  'protocol',
  'family',
  'localAddress',
  'localPort',
  'remoteAddress',
  'remotePort',
  'state',
  'listening',
  'pid',
  'pids',
  'uid',
  'user',
  'ownerHidden',
  'process',
  'exe',
  'cmdline',
] as const;

/** RFC 4180 field: quoted when it holds a comma, quote or line break; quotes doubled. */
export function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function formatCsv(sockets: readonly Socket[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const s of sockets) {
    const cells = [
      s.id,
      s.protocol,
      String(s.family),
      s.localAddress,
      String(s.localPort),
      s.remoteAddress ?? '',
      s.remotePort === null ? '' : String(s.remotePort),
      s.state,
      String(s.listening),
      s.pid === null ? '' : String(s.pid),
      s.pids.join(' '),
      s.uid === null ? '' : String(s.uid),
      s.user ?? '',
      String(s.ownerHidden),
      s.process?.name ?? '',
      s.process?.exe ?? '',
      s.process ? JSON.stringify(s.process.cmdline) : '',
    ];
    lines.push(cells.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

