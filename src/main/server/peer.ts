import ipaddr from 'ipaddr.js';
import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { tcpSocketUid, type Endpoint } from '../engine';

/**
 * Who is on the other end of a loopback connection. The client's TCP socket is in this network namespace too,
 * with the client's address and port as its local end and the server's as its remote end; its uid is the
 * client's owner. Asked of the kernel for that one socket over sock_diag; where netlink cannot be used, found
 * by a scan of /proc/net/tcp{,6}, stopping at the row. Nothing cached: a cached answer could name the previous
 * owner of a reused port.
 */

export type { Endpoint };

export { isLoopbackAddress } from '../../shared/address';

/** An address as /proc/net/tcp{,6} prints it: each 32-bit word in host byte order, %08X. */
function procHex(bytes: number[], littleEndian: boolean): string {
  let out = '';
  for (let w = 0; w < bytes.length; w += 4) {
    const [b0, b1, b2, b3] = bytes.slice(w, w + 4) as [number, number, number, number];
    const word = littleEndian ? (b3 << 24) | (b2 << 16) | (b1 << 8) | b0 : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
    out += (word >>> 0).toString(16).toUpperCase().padStart(8, '0');
  }
  return out;
}

const portHex = (p: number): string => p.toString(16).toUpperCase().padStart(4, '0');

/** The '<local> <remote>' text of a /proc/net row for this tuple in each file it can be in. */
export function tupleNeedles(local: Endpoint, remote: Endpoint, littleEndian = endianness() === 'LE'): Array<{ file: 'tcp' | 'tcp6'; needle: string }> {
  const a = ipaddr.parse(local.address);
  const b = ipaddr.parse(remote.address);
  const v6 = (x: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv6 => (x.kind() === 'ipv4' ? (x as ipaddr.IPv4).toIPv4MappedAddress() : (x as ipaddr.IPv6));
  const v4 = (x: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | null =>
    x.kind() === 'ipv4' ? (x as ipaddr.IPv4) : (x as ipaddr.IPv6).isIPv4MappedAddress() ? (x as ipaddr.IPv6).toIPv4Address() : null;
  const row = (x: number[], y: number[]): string => `${procHex(x, littleEndian)}:${portHex(local.port)} ${procHex(y, littleEndian)}:${portHex(remote.port)}`;
  const out: Array<{ file: 'tcp' | 'tcp6'; needle: string }> = [];
  const a4 = v4(a);
  const b4 = v4(b);
  // an IPv4 client of a dual-stack server is an IPv4 socket, unless the client itself used a mapped IPv6 one
  if (a4 && b4) out.push({ file: 'tcp', needle: row(a4.toByteArray(), b4.toByteArray()) });
  out.push({ file: 'tcp6', needle: row(v6(a).toByteArray(), v6(b).toByteArray()) });
  return out;
}

/** The uid column of the first line of `path` containing `needle`, read in chunks; null when none does. */
function scan(path: string, needle: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(64 * 1024);
    let carry = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      const text = carry + buf.toString('latin1', 0, n);
      const lines = text.split('\n');
      carry = n === 0 ? '' : (lines.pop() as string);
      for (const line of lines) {
        if (!line.includes(needle)) continue;
        // sl local remote st tx:rx tr:when retrnsmt uid ...
        const uid = line.trim().split(/\s+/)[7];
        return uid !== undefined && /^\d+$/.test(uid) ? Number(uid) : null;
      }
      if (n === 0) return null;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The uid owning the client's socket of a connection this server accepted (client = the accepted socket's
 * remote end, server = its local end), or null when it is not found (gone already, another namespace).
 */
export function peerUid(client: Endpoint, server: Endpoint, opts: { procNet?: string; netlink?: boolean } = {}): number | null {
  if (!ipaddr.isValid(client.address) || !ipaddr.isValid(server.address)) return null;
  // the kernel, asked for that one socket: microseconds at any number of sockets (a /proc scan is not)
  if (opts.netlink !== false) {
    const uid = tcpSocketUid(client, server);
    if (uid !== undefined) return uid;
  }
  const procNet = opts.procNet ?? '/proc/net';
  for (const { file, needle } of tupleNeedles(client, server)) {
    const uid = scan(`${procNet}/${file}`, needle);
    if (uid !== null) return uid;
  }
  return null;
}
