import { inert, inertJson } from './inert';
import type { Socket } from './model';

/**
 * CSV export of sockets, the same for the CLI's --csv and the UI's Export. Text from the system (names,
 * users, paths, addresses) goes through inert(), as in the table: `list --csv` prints to a terminal too, and
 * a spreadsheet shows control characters no better. cmdline is a JSON array (inertJson: it parses back to the
 * exact arguments). An empty cell means none or unknown (no remote end, a hidden owner): Portwatch never writes
 * `-` or a negative number itself, so a cell that starts with `-` is always someone's text, and gets the `'`.
 */

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
  'noOwner',
  'interface',
  'v6only',
  'bytesIn',
  'bytesOut',
  'rttMs',
  'netns',
  'container',
  'process',
  'exe',
  'cmdline',
] as const;

/** What spreadsheets start a formula with (OWASP, CSV injection): `=HYPERLINK(...)` in a process name. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180 field: a cell a spreadsheet would take for a formula gets a leading `'` (shown as text); then it is
 * quoted when it holds a comma, quote or line break, quotes doubled.
 */
export function csvField(v: string): string {
  const text = FORMULA_START.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatCsv(sockets: readonly Socket[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const s of sockets) {
    const cells = [
      inert(s.id),
      s.protocol,
      String(s.family),
      inert(s.localAddress),
      String(s.localPort),
      inert(s.remoteAddress ?? ''),
      s.remotePort === null ? '' : String(s.remotePort),
      s.state,
      String(s.listening),
      s.pid === null ? '' : String(s.pid),
      s.pids.join(' '),
      s.uid === null ? '' : String(s.uid),
      inert(s.user ?? ''),
      String(s.ownerHidden),
      s.noOwner ?? '',
      inert(s.interface ?? ''),
      s.v6only === null ? '' : String(s.v6only),
      s.bytesIn === null ? '' : String(s.bytesIn),
      s.bytesOut === null ? '' : String(s.bytesOut),
      s.rttMs === null ? '' : String(s.rttMs),
      s.netns ?? '',
      s.container ?? '',
      inert(s.process?.name ?? ''),
      inert(s.process?.exe ?? ''),
      s.process ? inertJson(JSON.stringify(s.process.cmdline)) : '',
    ];
    lines.push(cells.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
