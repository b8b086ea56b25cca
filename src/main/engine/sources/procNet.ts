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

/** Kernel TCP state numbers (include/net/tcp_states.h). 0x0C is NEW_SYN_RECV, a request socket. */
const TCP_STATE_BY_CODE: Record<number, TcpState> = {
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

function splitEndpoint(
  field: string,
  family: Family,
  decoder: AddressDecoder,
): { address: string; port: number } | string {
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

/**
 * Parses one /proc/net table. `file` names it in errors (e.g. "tcp6"). The first line is the header and is
 * checked, not parsed.
 */
export function parseProcNet(
  text: string,
  protocol: Protocol,
  family: Family,
  decoder: AddressDecoder,
  file = `${protocol}${family === 6 ? '6' : ''}`,
): ProcNetParse {
  const rows: ProcNetRow[] = [];
  const errors: ProcNetError[] = [];
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  if (!/^\s*sl\s+local_address/.test(header)) {
    errors.push({ file, line: 1, reason: 'missing header (sl local_address ...)', text: header.slice(0, 200) });
  }
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '') continue;
    const fail = (reason: string): void => {
      errors.push({ file, line: i + 1, reason, text: line.slice(0, 200) });
    };
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    if (f.length < 10) {
      fail(`expected at least 10 fields, got ${f.length}`);
      continue;
    }
    if (!/^\d+:$/.test(f[0] as string)) {
      fail('slot field is not "N:"');
      continue;
    }
    const local = splitEndpoint(f[1] as string, family, decoder);
    if (typeof local === 'string') {
      fail(`local ${local}`);
      continue;
    }
    const remote = splitEndpoint(f[2] as string, family, decoder);
    if (typeof remote === 'string') {
      fail(`remote ${remote}`);
      continue;
    }
    const st = f[3] as string;
    if (st.length !== 2 || !HEX.test(st)) {
      fail('state is not 2 hex digits');
      continue;
    }
    const code = parseInt(st, 16);
    let state: SocketState;
    if (protocol === 'tcp') {
      const s = TCP_STATE_BY_CODE[code];
      if (s === undefined) {
        fail(`unknown TCP state 0x${st}`);
        continue;
      }
      state = s;
    } else if (code === 0x07) {
      state = 'UNCONN';
    } else if (code === 0x01) {
      state = 'ESTABLISHED';
    } else {
      fail(`unknown UDP state 0x${st}`);
      continue;
    }
    const uidText = f[7] as string;
    const inodeText = f[9] as string;
    if (!DEC.test(uidText) || !DEC.test(inodeText)) {
      fail('uid or inode is not a decimal number');
      continue;
    }
    const noPeer = state === 'LISTEN' || state === 'UNCONN' || (isUnspecified(remote.address) && remote.port === 0);
    rows.push({
      protocol,
      family,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: noPeer ? null : remote.address,
      remotePort: noPeer ? null : remote.port,
      state,
      uid: Number(uidText),
      inode: Number(inodeText),
    });
  }
  return { rows, errors };
}
