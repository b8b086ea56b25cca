import ipaddr from 'ipaddr.js';
import { AF_NETLINK, SOCK_CLOEXEC, SOCK_DGRAM, SOL_SOCKET, SO_RCVTIMEO, libc, type Libc } from '../native/libc';
import { AF_INET, AF_INET6, ALL_STATES, DiagParser, IPPROTO_TCP, NETLINK_SOCK_DIAG, NLM_F_REQUEST, SOCK_DIAG_BY_FAMILY, type DiagRow } from './sockDiag';
import { sockaddrNl, timeval } from './transport';

/*
 * One TCP socket by its four-tuple, asked of the kernel directly: SOCK_DIAG_BY_FAMILY without NLM_F_DUMP and
 * with the tuple in the request is answered with that socket alone (or ENOENT), in microseconds however many
 * sockets the machine has. The web server asks this for every WebSocket upgrade from loopback (whose is the
 * client's end?), so it must not cost a read of /proc/net/tcp, which at 50,000 sockets is tens of
 * milliseconds of the server's thread and could be asked for by anyone who can connect.
 */

export interface Endpoint {
  address: string;
  port: number;
}

const NLMSG_HDRLEN = 16;
const REQ_LEN = NLMSG_HDRLEN + 56;
const ANSWER_BYTES = 8192;

/** The request for one socket of `family` whose local end is `local` and remote end `remote`. */
export function exactRequest(
  seq: number,
  family: 4 | 6,
  local: ipaddr.IPv4 | ipaddr.IPv6,
  localPort: number,
  remote: ipaddr.IPv4 | ipaddr.IPv6,
  remotePort: number,
): Buffer {
  const b = Buffer.alloc(REQ_LEN);
  b.writeUInt32LE(REQ_LEN, 0);
  b.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4);
  b.writeUInt16LE(NLM_F_REQUEST, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  const r = NLMSG_HDRLEN;
  b[r] = family === 4 ? AF_INET : AF_INET6;
  b[r + 1] = IPPROTO_TCP;
  b.writeUInt32LE(ALL_STATES >>> 0, r + 4);
  // inet_diag_sockid: ports and addresses in network order, then the interface and the cookie
  b.writeUInt16BE(localPort, r + 8);
  b.writeUInt16BE(remotePort, r + 10);
  Buffer.from(local.toByteArray()).copy(b, r + 12);
  Buffer.from(remote.toByteArray()).copy(b, r + 28);
  b.writeUInt32LE(0, r + 44);
  // INET_DIAG_NOCOOKIE: match by tuple, not by a cookie we do not have
  b.writeUInt32LE(0xffffffff, r + 48);
  b.writeUInt32LE(0xffffffff, r + 52);
  return b;
}

/** The families and address forms a tuple's socket can have: IPv4, or IPv6 (an IPv4 peer of a v6 socket is mapped). */
function forms(local: Endpoint, remote: Endpoint): Array<{ family: 4 | 6; a: ipaddr.IPv4 | ipaddr.IPv6; b: ipaddr.IPv4 | ipaddr.IPv6 }> {
  const a = ipaddr.process(local.address);
  const b = ipaddr.process(remote.address);
  const v6 = (x: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv6 => (x.kind() === 'ipv4' ? (x as ipaddr.IPv4).toIPv4MappedAddress() : (x as ipaddr.IPv6));
  const out: Array<{ family: 4 | 6; a: ipaddr.IPv4 | ipaddr.IPv6; b: ipaddr.IPv4 | ipaddr.IPv6 }> = [];
  if (a.kind() === 'ipv4' && b.kind() === 'ipv4') out.push({ family: 4, a, b });
  out.push({ family: 6, a: v6(a), b: v6(b) });
  return out;
}

let socketFd = -1;
let seq = 1;
const answer = Buffer.alloc(ANSWER_BYTES);
const parser = new DiagParser(true, false);

function open(c: Libc): number {
  if (socketFd >= 0) return socketFd;
  const fd = c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  // the kernel answers at once; a second is a bound for a kernel that never does
  c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval(1));
  socketFd = fd;
  return fd;
}

const NL_ADDR = sockaddrNl(0);

/**
 * The uid owning the TCP socket whose local end is `local` and remote end `remote`, in this thread's network
 * namespace: a number, null when there is no such socket, or undefined when netlink cannot be asked here (no
 * koffi, or sock_diag refused), so the caller can look elsewhere.
 */
export function tcpSocketUid(local: Endpoint, remote: Endpoint): number | null | undefined {
  if (!ipaddr.isValid(local.address) || !ipaddr.isValid(remote.address)) return null;
  let c: Libc;
  try {
    c = libc();
  } catch {
    return undefined;
  }
  const fd = open(c);
  if (fd < 0) return undefined;
  for (const f of forms(local, remote)) {
    const s = seq++;
    const req = exactRequest(s, f.family, f.a, local.port, f.b, remote.port);
    if (c.sendto(fd, req, 0, NL_ADDR) !== req.length) {
      c.close(fd);
      socketFd = -1;
      return undefined;
    }
    // one answer per request: the socket, or an error (ENOENT); older answers (a timed-out request) are skipped by seq
    for (let tries = 0; tries < 4; tries++) {
      const n = c.recv(fd, answer, 0);
      if (n <= 0) {
        c.close(fd);
        socketFd = -1;
        return undefined;
      }
      const rows: DiagRow[] = [];
      const chunk = parser.parse(answer, Math.min(n, answer.length), 'tcp', s, rows);
      const row = rows[0];
      if (row) return row.uid;
      if (chunk.done) break;
    }
  }
  return null;
}
