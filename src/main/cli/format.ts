import { inert, inertJson } from '../../shared/inert';
import { describeNoOwner, formatBytes, formatEndpoint, formatLocal, type Snapshot, type Socket } from '../../shared/model';
export { csvField, formatCsv } from '../../shared/export';
/** The one escape for untrusted text on a terminal (see shared/inert); index.ts uses it for kill's prompt. */
export { inert, inertJson };

/** Text inert() returns as it is: printable ASCII without a backslash (almost every cell of a table). */
const PLAIN = /^[ -[\]-~]*$/;

/** inert(), with a fast path for the text it would not change: one test of a plain character class. */
export function inertCell(text: string): string {
  return PLAIN.test(text) ? text : inert(text);
}

/** The process, or why there is none, in the engine's words (it knows whether it looked everywhere). */
function owner(s: Socket): string {
  if (s.process) return s.process.name;
  if (s.noOwner !== null) return `(${describeNoOwner(s.noOwner)})`;
  return s.ownerHidden ? `(${describeNoOwner('hidden')})` : '-';
}

/**
 * `list --rates`: bytes a second, `-` before a second sight or for a TCP listener (its traffic is its
 * connections'), and `n/a` where the kernel keeps no counters (UDP): never a 0 it did not count.
 */
function rateCell(s: Socket, rate: number | null | undefined): string {
  if (s.bytesIn === null && s.bytesOut === null) return s.listening && s.protocol === 'tcp' ? '-' : 'n/a';
  return rate === null || rate === undefined ? '-' : `${formatBytes(rate)}/s`;
}

/** What String.prototype.trimEnd would remove from the end of a line (its WhiteSpace and LineTerminator). */
const TRAILING_SPACE = /\s$/;

/**
 * A readable table: full addresses and names, never cut; columns sized to their longest cell (in UTF-16 code
 * units, as padEnd counts), two spaces apart, the last column unpadded, trailing white space trimmed. Every
 * cell is passed through inert(): names, users and addresses come from the system, and other users choose theirs.
 * Built column by column and then line by line, with no array per row: at 10,000 sockets this runs once, cold,
 * and what it allocates and keeps is what the garbage collector copies.
 */
export function formatTable(sockets: readonly Socket[], opts: { rates?: boolean } = {}): string {
  // a NETNS column only when some socket lives in another network namespace (root, with containers)
  const namespaces = sockets.some((s) => s.netns !== null);
  const rates = opts.rates === true;
  const header = ['PROTO', 'LOCAL', 'REMOTE', 'STATE', 'PID', 'USER', ...(namespaces ? ['NETNS'] : []), ...(rates ? ['IN/S', 'OUT/S'] : []), 'PROCESS'];
  const n = sockets.length;
  const columns = header.map(() => new Array<string>(n));
  const widths = header.map((h) => h.length);
  /** A cell Portwatch wrote itself from an enumeration or numbers (protocol, state, pid). */
  const ours = (column: number, row: number, cell: string): void => {
    (columns[column] as string[])[row] = cell;
    if (cell.length > (widths[column] as number)) widths[column] = cell.length;
  };
  // per column, the last text put and its cell: users and process names repeat row after row
  const lastText = header.map(() => '');
  const lastCell = header.map(() => '');
  /** A cell with text from the system (device names, users, namespaces, process names): made inert. */
  const put = (column: number, row: number, text: string): void => {
    if (text !== lastText[column]) {
      lastText[column] = text;
      lastCell[column] = inertCell(text);
    }
    ours(column, row, lastCell[column] as string);
  };
  const v6Names = new Map<string, string>();
  let lastPid: number | null = null;
  let lastPidCount = 0;
  let pidCell = '-';
  for (let i = 0; i < n; i++) {
    const s = sockets[i] as Socket;
    let c = 0;
    let proto = s.protocol as string;
    if (s.family === 6) {
      const named = v6Names.get(proto);
      if (named !== undefined) proto = named;
      else v6Names.set(proto, (proto = `${proto}6`));
    }
    ours(c++, i, proto);
    // the local end may name a device (0.0.0.0%eth0): text from the system
    put(c++, i, s.incomplete ? `${formatLocal(s)} (cut)` : formatLocal(s));
    // a remote end is text from a tool where systeminformation is the source
    put(c++, i, formatEndpoint(s.remoteAddress, s.remotePort));
    ours(c++, i, s.state);
    // sockets of one process come together
    if (s.pid !== lastPid || s.pids.length !== lastPidCount) {
      lastPid = s.pid;
      lastPidCount = s.pids.length;
      pidCell = s.pid === null ? '-' : s.pids.length > 1 ? `${s.pid} +${s.pids.length - 1}` : String(s.pid);
    }
    ours(c++, i, pidCell);
    put(c++, i, s.user ?? (s.uid === null ? '-' : String(s.uid)));
    if (namespaces) put(c++, i, s.netns === null ? '-' : (s.container ?? s.netns));
    if (rates) {
      ours(c++, i, rateCell(s, s.rateIn));
      ours(c++, i, rateCell(s, s.rateOut));
    }
    put(c, i, owner(s));
  }
  const last = header.length - 1;
  // a cell and the spaces after it: spaces[k] is k of them
  const spaces = [''];
  for (let k = 1, w = Math.max(...widths) + 2; k <= w; k++) spaces.push(`${spaces[k - 1] as string} `);
  const ends = columns[last] as string[];
  // only an empty or blank-ended last cell leaves trailing white space (the padding before it, or its own);
  // the last cell of one row is mostly the row above's
  let endSeen = '';
  let endTrims = true;
  // lines joined once: ten thousand concatenations would leave one deep rope for the write to flatten
  const lines = new Array<string>(n + 2);
  for (let i = -1; i < n; i++) {
    let text = '';
    for (let c = 0; c < last; c++) {
      const t = i < 0 ? (header[c] as string) : ((columns[c] as string[])[i] as string);
      text += t + (spaces[(widths[c] as number) + 2 - t.length] as string);
    }
    const end = i < 0 ? (header[last] as string) : (ends[i] as string);
    if (end !== endSeen) {
      endSeen = end;
      endTrims = end === '' || TRAILING_SPACE.test(end);
    }
    text += end;
    lines[i + 1] = endTrims ? text.trimEnd() : text;
  }
  lines[n + 1] = '';
  return lines.join('\n');
}

/** `list --json`: the model as it is; the characters a terminal would act on are \u escapes (inertJson). */
export function formatJson(snapshot: Pick<Snapshot, 'takenAt' | 'source'>, sockets: readonly Socket[]): string {
  return inertJson(JSON.stringify({ takenAt: snapshot.takenAt, source: snapshot.source, sockets }, null, 2)) + '\n';
}

/**
 * Printable ASCII in the order of Unicode's root collation (CLDR), which String.prototype.localeCompare used
 * here before: space, punctuation, symbols, digits, then letters, each lower case before its upper case.
 */
const COLLATION = ` _-,;:!?.'"()[]{}@*/\\&#%\`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ`;
/** By character code (0-126): its rank at the first level (a letter's case does not count there); -1 if none. */
const PRIMARY = new Int16Array(127).fill(-1);
for (let i = 0; i < COLLATION.length; i++) PRIMARY[COLLATION.charCodeAt(i)] = /[A-Z]/.test(COLLATION[i] as string) ? i - 1 : i;

function primary(code: number): number {
  // other characters (none in an address, a protocol or a port) after printable ASCII, by code unit
  return code < 127 && (PRIMARY[code] as number) >= 0 ? (PRIMARY[code] as number) : code + 0x10000;
}

/**
 * Text order as localeCompare gives it in the root (and en) locale for printable ASCII, without its cost (ICU's
 * collator takes milliseconds to start) and the same in every locale: character by character by COLLATION's
 * rank, a prefix first; then, if only the case of letters differs, at the first such letter lower case first.
 * For addresses (`[0-9a-f.:]`) that puts `::` and `::1` before `0.0.0.0`, and `1.2.3.4` before `10.0.0.1`.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const d = primary(x) - primary(y);
      if (d !== 0) return d;
    }
  }
  if (a.length !== b.length) return a.length - b.length;
  // equal but for case: lower case first, where the first difference is
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return y - x;
  }
  return 0;
}

/**
 * Listing order: listeners first, then by protocol (alphabetical: icmp, mptcp, raw, tcp, udp, udplite), local
 * port (numeric), local address, remote address (none first; addresses in compareText's order), remote port
 * (numeric, none as 0). Stable: sockets equal in all of these keep the source's order.
 */
export function sortForListing(sockets: readonly Socket[]): Socket[] {
  return [...sockets].sort(
    (a, b) =>
      Number(b.listening) - Number(a.listening) ||
      (a.protocol === b.protocol ? 0 : a.protocol < b.protocol ? -1 : 1) ||
      a.localPort - b.localPort ||
      compareText(a.localAddress, b.localAddress) ||
      compareText(a.remoteAddress ?? '', b.remoteAddress ?? '') ||
      (a.remotePort ?? 0) - (b.remotePort ?? 0),
  );
}
