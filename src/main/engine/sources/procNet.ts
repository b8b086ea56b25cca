import type { Family, Protocol, SocketState, TcpState } from '../../../shared/model';
import { formatIpv6Bytes } from '../address';

/**
 * Parser for the kernel's /proc/net/{tcp,tcp6,udp,udp6} tables. Pure: text in, rows and errors out.
 * A bad line never throws: it is reported with its line number and the good lines are kept.
 */

export interface ProcNetRow {
  protocol: Protocol;
  family: Family;
  localAddress: string;
  localPort: number;
  remoteAddress: string | null;
  remotePort: number | null;
  state: SocketState;
  uid: number;
  /** 0 for sockets no process holds (TIME_WAIT, orphans). */
  inode: number;
}

export interface ProcNetError {
  file: string;
  line: number;
  reason: string;
  text: string;
}

export interface ProcNetParse {
  rows: ProcNetRow[];
  errors: ProcNetError[];
}

/**
 * Kernel TCP state numbers (include/net/tcp_states.h), as /proc/net and sock_diag give them. 0x0C is
 * NEW_SYN_RECV, a request socket; 0x0D (TCP_BOUND_INACTIVE, Linux 6.6+) is only a dump filter: a bound-only
 * socket reads as CLOSE.
 */
export const TCP_STATE_BY_CODE: Readonly<Record<number, TcpState>> = {
  0x01: 'ESTABLISHED',
  0x02: 'SYN_SENT',
  0x03: 'SYN_RECV',
  0x04: 'FIN_WAIT1',
  0x05: 'FIN_WAIT2',
  0x06: 'TIME_WAIT',
  0x07: 'CLOSE',
  0x08: 'CLOSE_WAIT',
  0x09: 'LAST_ACK',
  0x0a: 'LISTEN',
  0x0b: 'CLOSING',
  0x0c: 'SYN_RECV',
};

const HEX = /^[0-9A-Fa-f]+$/;
const DEC = /^\d+$/;

/**
 * Decodes the kernel's hex address. The kernel prints each 32-bit word of the address as an integer in host
 * byte order, so on little-endian machines the bytes of every word come out reversed.
 */
export class AddressDecoder {
  private readonly cache = new Map<string, string>();
  constructor(private readonly littleEndian: boolean) {}

  decode(hex: string): string | null {
    const hit = this.cache.get(hex);
    if (hit !== undefined) return hit;
    if ((hex.length !== 8 && hex.length !== 32) || !HEX.test(hex)) return null;
    const bytes = new Uint8Array(hex.length / 2);
    for (let w = 0; w < hex.length / 8; w++) {
      const word = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
      for (let b = 0; b < 4; b++) {
        const shift = this.littleEndian ? b * 8 : (3 - b) * 8;
        bytes[w * 4 + b] = (word >>> shift) & 0xff;
      }
    }
    const text = bytes.length === 4 ? bytes.join('.') : formatIpv6Bytes(bytes);
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(hex, text);
    return text;
  }
}

function splitEndpoint(field: string, family: Family, decoder: AddressDecoder): { address: string; port: number } | string {
  const colon = field.indexOf(':');
  if (colon < 0) return `endpoint without ':' (${field})`;
  const hexAddr = field.slice(0, colon);
  const hexPort = field.slice(colon + 1);
  if (hexAddr.length !== (family === 4 ? 8 : 32)) return `address of wrong length for IPv${family}`;
  const address = decoder.decode(hexAddr);
  if (address === null) return 'address is not hex';
  if (hexPort.length !== 4 || !HEX.test(hexPort)) return 'port is not 4 hex digits';
  return { address, port: parseInt(hexPort, 16) };
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/** What a row was read from: a line that reads the same again gives back the same row. */
interface CachedRow {
  row: ProcNetRow;
  code: number;
  /** local port, remote port, then the address words: local's, remote's (1 each for IPv4, 4 for IPv6) */
  numbers: number[];
}

/**
 * Last poll's rows by inode, for the steady state: at ten thousand sockets most lines are unchanged, and a line
 * whose addresses, ports, state and uid read as before yields last poll's row object, with no address decoded
 * and nothing allocated. `rotate()` starts a poll; rows not seen again are dropped then.
 */
export class RowCache {
  private prev = new Map<number, CachedRow>();
  private next = new Map<number, CachedRow>();

  rotate(): void {
    this.prev = this.next;
    this.next = new Map();
  }

  /** @internal the parser's */
  take(inode: number): CachedRow | undefined {
    return this.prev.get(inode);
  }

  /** @internal the parser's */
  keep(inode: number, c: CachedRow): void {
    this.next.set(inode, c);
  }
}

const HEADER = /^\s*sl\s+local_address/;

/**
 * Parses one /proc/net table. `file` names it in errors (e.g. "tcp6"). The first line is the header and is
 * checked, not parsed. With a `cache`, lines unchanged since the cache's last poll give back their old rows.
 */
export function parseProcNet(
  text: string,
  protocol: Protocol,
  family: Family,
  decoder: AddressDecoder,
  file = `${protocol}${family === 6 ? '6' : ''}`,
  cache?: RowCache,
): ProcNetParse {
  const out: ProcNetParse = { rows: [], errors: [] };
  parseProcNetPart(text, 1, protocol, family, decoder, file, cache, out);
  return out;
}

/**
 * Parses a part of a table that starts at line `firstLine` (1: the header, which is checked) and ends with a
 * whole line, into `out`; returns the number of the line after it. A table read piece by piece is parsed
 * piece by piece, each as it arrives.
 */
export function parseProcNetPart(
  text: string,
  firstLine: number,
  protocol: Protocol,
  family: Family,
  decoder: AddressDecoder,
  file: string,
  cache: RowCache | undefined,
  out: ProcNetParse,
): number {
  const { rows, errors } = out;
  let e = -1;
  let lineNo = firstLine - 1;
  if (firstLine === 1) {
    e = text.indexOf('\n');
    if (e < 0) e = text.length;
    const header = text.slice(0, e);
    lineNo = 1;
    if (!HEADER.test(header)) {
      errors.push({ file, line: 1, reason: 'missing header (sl local_address ...)', text: header.slice(0, 200) });
    }
  }
  // lines are scanned in place: no string per line unless one is bad
  for (let s = e + 1; s < text.length; s = e + 1) {
    lineNo++;
    e = text.indexOf('\n', s);
    if (e < 0) e = text.length;
    if (e === s) continue;
    const fast = scanLine(text, s, e, protocol, family, decoder, cache);
    if (fast !== null) {
      rows.push(fast);
      continue;
    }
    // Anything unusual takes the careful path, which also says what is wrong.
    const line = text.slice(s, e);
    const row = parseLine(line, protocol, family, decoder);
    if (typeof row !== 'string') rows.push(row);
    else if (line.trim() !== '') errors.push({ file, line: lineNo, reason: row, text: line.slice(0, 200) });
  }
  return lineNo + 1;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Parses `len` hex digits at `at`, or -1. */
function hexAt(text: string, at: number, len: number): number {
  let v = 0;
  for (let k = 0; k < len; k++) {
    const d = hexDigit(text.charCodeAt(at + k));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Index of the next non-space at or after `i`, at most `end`. */
function skipSpaces(text: string, i: number, end: number): number {
  while (i < end && text.charCodeAt(i) === 32) i++;
  return i;
}

/** Index just past the token starting at `i`, at most `end`. */
function tokenEnd(text: string, i: number, end: number): number {
  while (i < end && text.charCodeAt(i) !== 32) i++;
  return i;
}

/** A decimal number spanning [from, to), or -1. */
function decimal(text: string, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let v = 0;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Whether the `words` 8-digit hex words at `at` are `numbers[from..]`. */
function sameWords(text: string, at: number, words: number, numbers: number[], from: number): boolean {
  for (let k = 0; k < words; k++) if (hexAt(text, at + k * 8, 8) !== numbers[from + k]) return false;
  return true;
}

/**
 * The hot path: one well-formed line, [s, e) of `text`, scanned by character codes without cutting it into
 * strings (ten thousand lines a poll). Returns null for anything it does not expect; parseLine then judges
 * the line.
 */
function scanLine(
  text: string,
  s: number,
  e: number,
  protocol: Protocol,
  family: Family,
  decoder: AddressDecoder,
  cache: RowCache | undefined,
): ProcNetRow | null {
  const words = family === 4 ? 1 : 4;
  const addrLen = words * 8;
  let i = skipSpaces(text, s, e);
  const slotEnd = tokenEnd(text, i, e);
  if (text.charCodeAt(slotEnd - 1) !== 58 || decimal(text, i, slotEnd - 1) < 0) return null;
  // local "ADDR:PORT" and remote "ADDR:PORT"
  const local = skipSpaces(text, slotEnd, e);
  if (local + addrLen + 5 >= e || text.charCodeAt(local + addrLen) !== 58 || text.charCodeAt(local + addrLen + 5) !== 32) return null;
  const localPort = hexAt(text, local + addrLen + 1, 4);
  const remote = skipSpaces(text, local + addrLen + 5, e);
  if (remote + addrLen + 5 >= e || text.charCodeAt(remote + addrLen) !== 58 || text.charCodeAt(remote + addrLen + 5) !== 32) return null;
  const remotePort = hexAt(text, remote + addrLen + 1, 4);
  i = skipSpaces(text, remote + addrLen + 5, e);
  if (i + 2 >= e) return null;
  const code = hexAt(text, i, 2);
  if (localPort < 0 || remotePort < 0 || code < 0 || text.charCodeAt(i + 2) !== 32) return null;
  // tx_queue:rx_queue, tr:tm->when, retrnsmt: " %08X:%08X %02X:%08lX %08X " when every value fits its width,
  // as it nearly always does; otherwise token by token
  if (
    i + 43 < e &&
    text.charCodeAt(i + 3 + 8) === 58 &&
    text.charCodeAt(i + 3 + 17) === 32 &&
    text.charCodeAt(i + 3 + 20) === 58 &&
    text.charCodeAt(i + 3 + 29) === 32 &&
    text.charCodeAt(i + 3 + 38) === 32 &&
    text.charCodeAt(i + 3 + 37) !== 32
  ) {
    i = skipSpaces(text, i + 3 + 38, e);
  } else {
    i = skipSpaces(text, i + 2, e);
    for (let k = 0; k < 3; k++) i = skipSpaces(text, tokenEnd(text, i, e), e);
  }
  const uidEnd = tokenEnd(text, i, e);
  const uid = decimal(text, i, uidEnd);
  i = skipSpaces(text, uidEnd, e);
  i = skipSpaces(text, tokenEnd(text, i, e), e); // timeout
  const inodeEnd = tokenEnd(text, i, e);
  const inode = decimal(text, i, inodeEnd);
  if (uid < 0 || inode < 0) return null;
  if (cache !== undefined && inode !== 0) {
    const hit = cache.take(inode);
    if (
      hit !== undefined &&
      hit.code === code &&
      hit.row.uid === uid &&
      hit.row.protocol === protocol &&
      hit.row.family === family &&
      hit.numbers[0] === localPort &&
      hit.numbers[1] === remotePort &&
      sameWords(text, local, words, hit.numbers, 2) &&
      sameWords(text, remote, words, hit.numbers, 2 + words)
    ) {
      cache.keep(inode, hit);
      return hit.row;
    }
  }
  let state: SocketState | undefined;
  if (protocol === 'tcp') state = TCP_STATE_BY_CODE[code];
  else state = code === 0x07 ? 'UNCONN' : code === 0x01 ? 'ESTABLISHED' : undefined;
  if (state === undefined) return null;
  const localAddress = decoder.decode(text.substr(local, addrLen));
  if (localAddress === null) return null;
  let remoteAddress: string | null = null;
  let noPeer = state === 'LISTEN' || state === 'UNCONN';
  if (!noPeer) {
    remoteAddress = decoder.decode(text.substr(remote, addrLen));
    if (remoteAddress === null) return null;
    noPeer = remotePort === 0 && isUnspecified(remoteAddress);
  }
  const row: ProcNetRow = {
    protocol,
    family,
    localAddress,
    localPort,
    remoteAddress: noPeer ? null : remoteAddress,
    remotePort: noPeer ? null : remotePort,
    state,
    uid,
    inode,
  };
  if (cache !== undefined && inode !== 0) {
    const numbers = [localPort, remotePort];
    for (let k = 0; k < words; k++) numbers.push(hexAt(text, local + k * 8, 8));
    for (let k = 0; k < words; k++) numbers.push(hexAt(text, remote + k * 8, 8));
    cache.keep(inode, { row, code, numbers });
  }
  return row;
}

/** One table line: the row, or why it is not one. */
function parseLine(line: string, protocol: Protocol, family: Family, decoder: AddressDecoder): ProcNetRow | string {
  const f = line.trim().split(/\s+/);
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
  if (f.length < 10) return `expected at least 10 fields, got ${f.length}`;
  if (!/^\d+:$/.test(f[0] as string)) return 'slot field is not "N:"';
  const local = splitEndpoint(f[1] as string, family, decoder);
  if (typeof local === 'string') return `local ${local}`;
  const remote = splitEndpoint(f[2] as string, family, decoder);
  if (typeof remote === 'string') return `remote ${remote}`;
  const st = f[3] as string;
  if (st.length !== 2 || !HEX.test(st)) return 'state is not 2 hex digits';
  const code = parseInt(st, 16);
  let state: SocketState;
  if (protocol === 'tcp') {
    const s = TCP_STATE_BY_CODE[code];
    if (s === undefined) return `unknown TCP state 0x${st}`;
    state = s;
  } else if (code === 0x07) {
    state = 'UNCONN';
  } else if (code === 0x01) {
    state = 'ESTABLISHED';
  } else {
    return `unknown UDP state 0x${st}`;
  }
  const uidText = f[7] as string;
  const inodeText = f[9] as string;
  if (!DEC.test(uidText) || !DEC.test(inodeText)) return 'uid or inode is not a decimal number';
  const noPeer = state === 'LISTEN' || state === 'UNCONN' || (isUnspecified(remote.address) && remote.port === 0);
  return {
    protocol,
    family,
    localAddress: local.address,
    localPort: local.port,
    remoteAddress: noPeer ? null : remote.address,
    remotePort: noPeer ? null : remote.port,
    state,
    uid: Number(uidText),
    inode: Number(inodeText),
  };
}

/** Counters from /proc/net/sockstat and sockstat6: `{ TCP: { inuse: 5, tw: 0, ... }, TCP6: {...} }`. */
export type Sockstat = Record<string, Record<string, number>>;

export function parseSockstat(text: string): Sockstat {
  const out: Sockstat = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(.*)$/.exec(line);
    if (!m) continue;
    const fields: Record<string, number> = {};
    const parts = (m[2] as string).trim().split(/\s+/);
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const n = Number(parts[i + 1]);
      if (Number.isInteger(n)) fields[parts[i] as string] = n;
    }
    out[m[1] as string] = fields;
  }
  return out;
}

/**
 * Which tables certainly list nothing, by the kernel's own counters: reading an empty /proc/net/tcp6 still
 * walks the whole established hash (a few ms). A table is skipped only when every kind of socket it could
 * hold is counted zero (TIME_WAIT and orphans are counted for both families together); a missing counter
 * means read it.
 */
export function emptyTables(stat: Sockstat): Set<string> {
  const zero = (group: string, field: string): boolean => stat[group]?.[field] === 0;
  const noTimewait = zero('TCP', 'tw') && zero('TCP', 'orphan');
  const empty = new Set<string>();
  if (zero('TCP', 'inuse') && noTimewait) empty.add('tcp');
  if (zero('TCP6', 'inuse') && noTimewait) empty.add('tcp6');
  if (zero('UDP', 'inuse')) empty.add('udp');
  if (zero('UDP6', 'inuse')) empty.add('udp6');
  if (zero('UDPLITE', 'inuse')) empty.add('udplite');
  if (zero('UDPLITE6', 'inuse')) empty.add('udplite6');
  if (zero('RAW', 'inuse')) empty.add('raw');
  if (zero('RAW6', 'inuse')) empty.add('raw6');
  return empty;
}
