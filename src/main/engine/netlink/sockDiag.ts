import type { Family, Protocol, SocketState } from '../../../shared/model';
import { formatIpv6Bytes } from '../address';
import { TCP_STATE_BY_CODE, type ProcNetRow } from '../sources/procNet';

/**
 * sock_diag over netlink (linux/sock_diag.h, linux/inet_diag.h): the request a dump starts with, and a parser
 * for what the kernel answers. Pure: bytes in, records and errors out. Every length is checked against the
 * buffer before it is read; a message that does not add up is reported and skipped, never thrown, so a kernel
 * that answers something unexpected (or a corrupted recording) costs one row, not the poll.
 */

export const NETLINK_SOCK_DIAG = 4;
export const SOCK_DIAG_BY_FAMILY = 20;
/** The original inet_diag request (struct inet_diag_req): TCP of both families in one dump. */
export const TCPDIAG_GETSOCK = 18;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_UDPLITE = 136;
export const IPPROTO_RAW = 255;
export const IPPROTO_MPTCP = 262;

/** Attribute types in answers (enum inet_diag_attr). */
const INET_DIAG_INFO = 2;
const INET_DIAG_SKV6ONLY = 11;
/** Attribute types in requests (enum inet_diag_req_attr). */
const INET_DIAG_REQ_PROTOCOL = 3;

/** Multicast groups of the destroy events (enum sknetlink_groups; bit n-1 of nl_groups). */
export const SKNLGRP_INET_TCP_DESTROY = 1;
export const SKNLGRP_INET6_TCP_DESTROY = 3;

const NLMSG_HDRLEN = 16;
/** struct inet_diag_msg */
const DIAG_MSG_LEN = 72;
/** struct inet_diag_req_v2 */
const DIAG_REQ_LEN = 56;
/** struct inet_diag_req (TCPDIAG_GETSOCK): family, lengths, ext, inet_diag_sockid (48), states, dbs */
const COMPAT_REQ_LEN = 60;

const TCP_CLOSE = 7;
/** Every state, bound-only sockets included (bit 13; older kernels ignore it). */
export const ALL_STATES = 0xffffffff;
export const LISTEN_STATES = 1 << 10;
/** TCPF_BOUND_INACTIVE: bound, neither listening nor connecting (Linux 6.8+; older kernels dump none). */
export const BOUND_STATE = 1 << 13;

export interface DumpSpec {
  /**
   * 'both': TCP of both families in one TCPDIAG_GETSOCK dump, whose family is AF_UNSPEC. The kernel walks its
   * socket tables once per dump, and the walk costs about as much as a family's sockets (at 10,000 IPv4 TCP
   * sockets a v6 dump that finds none takes a third of the v4 one's time), so one dump instead of two saves that.
   */
  family: Family | 'both';
  protocol: Protocol;
  /** Bit per kernel state to dump. */
  states: number;
  /** TCP: ask for tcp_info (bytes, RTT; default true). It costs the kernel a socket lock per connection. */
  info?: boolean;
}

function kernelProtocol(protocol: Protocol): number {
  switch (protocol) {
    case 'tcp':
      return IPPROTO_TCP;
    case 'udp':
      return IPPROTO_UDP;
    case 'udplite':
      return IPPROTO_UDPLITE;
    case 'raw':
      return IPPROTO_RAW;
    case 'mptcp':
      return IPPROTO_MPTCP;
    case 'icmp':
      throw new RangeError('sock_diag has no dump of ICMP ping sockets');
  }
}

/** A dump request of `type` with a `body` bytes long after its netlink header, which is filled in. */
function dumpMessage(
  type: number,
  body: number,
  seq: number,
  littleEndian: boolean,
): { b: Buffer; u16: (v: number, at: number) => number; u32: (v: number, at: number) => number } {
  const b = Buffer.alloc(NLMSG_HDRLEN + body);
  const u32 = (v: number, at: number): number => (littleEndian ? b.writeUInt32LE(v >>> 0, at) : b.writeUInt32BE(v >>> 0, at));
  const u16 = (v: number, at: number): number => (littleEndian ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  u32(b.length, 0);
  u16(type, 4);
  u16(NLM_F_REQUEST | NLM_F_DUMP, 6);
  u32(seq, 8);
  u32(0, 12);
  return { b, u16, u32 };
}

/**
 * A SOCK_DIAG_BY_FAMILY dump request. TCP asks for tcp_info (INET_DIAG_INFO: bytes and RTT). MPTCP's protocol
 * number does not fit the request's byte, so it travels in an INET_DIAG_REQ_PROTOCOL attribute, as ss sends it.
 * Raw sockets are asked for with IPPROTO_RAW, which dumps every raw socket of the family.
 */
export function dumpRequest(seq: number, spec: DumpSpec, littleEndian = true): Buffer {
  if (spec.family === 'both') return compatRequest(seq, spec, littleEndian);
  const proto = kernelProtocol(spec.protocol);
  const attrLen = proto > 255 ? 8 : 0;
  const { b, u16, u32 } = dumpMessage(SOCK_DIAG_BY_FAMILY, DIAG_REQ_LEN + attrLen, seq, littleEndian);
  b[16] = spec.family === 4 ? AF_INET : AF_INET6;
  b[17] = proto & 0xff;
  b[18] = (spec.protocol === 'tcp' || spec.protocol === 'mptcp') && spec.info !== false ? 1 << (INET_DIAG_INFO - 1) : 0;
  b[19] = spec.protocol === 'raw' ? IPPROTO_RAW : 0; // sdiag_raw_protocol
  u32(spec.states, 20);
  if (attrLen) {
    u16(8, 72);
    u16(INET_DIAG_REQ_PROTOCOL, 74);
    u32(proto, 76);
  }
  return b;
}

/** A TCPDIAG_GETSOCK dump request: the same answers as SOCK_DIAG_BY_FAMILY's, for TCP of every family. */
function compatRequest(seq: number, spec: DumpSpec, littleEndian: boolean): Buffer {
  if (spec.protocol !== 'tcp') throw new RangeError(`a dump of both families is TCP's alone, not ${spec.protocol}'s`);
  const { b, u32 } = dumpMessage(TCPDIAG_GETSOCK, COMPAT_REQ_LEN, seq, littleEndian);
  b[16] = AF_INET; // idiag_family: ignored by a dump, which asks for AF_UNSPEC
  b[19] = spec.info !== false ? 1 << (INET_DIAG_INFO - 1) : 0; // idiag_ext
  u32(spec.states, NLMSG_HDRLEN + 52);
  return b;
}

/** One socket as sock_diag describes it, before owners: what /proc/net says of it, and more. */
export interface DiagRow extends ProcNetRow {
  /** The kernel's state number (TCP_CLOSE for a freed socket). */
  stateCode: number;
  /** Bound device (SO_BINDTODEVICE, or a link-local address's scope); 0 for none. */
  ifindex: number;
  v6only: boolean | null;
  bytesIn: number | null;
  bytesOut: number | null;
  rttMs: number | null;
  /**
   * What the source that dumped it knows beyond the dump (see KernelRow), set once by it: undefined until then.
   * Made with the row, so that setting them later neither changes its shape nor grows it.
   */
  iface?: string | null;
  netns?: string | null;
  container?: string | null;
}

export interface DiagParseError {
  /** Byte offset of the message in the buffer it was parsed from. */
  offset: number;
  reason: string;
}

/** What one buffer of a dump (one recv) held. */
export interface DiagChunk {
  /** NLMSG_DONE seen: the dump is complete. */
  done: boolean;
  /** The kernel answered an error (negative errno), e.g. -ENOENT: no handler for that protocol. */
  error: number | null;
  /** NLM_F_DUMP_INTR: the tables changed during the dump, which is then not consistent. */
  interrupted: boolean;
  errors: DiagParseError[];
}

/** Last poll's record of a socket, by its cookie: a message that reads the same gives back the same row. */
interface Cached {
  row: DiagRow;
  /** ports, state, uid, inode, ifindex, the address words (8), v6only; the byte counters are the row's own */
  key: number[];
  /** The last poll (rotate's count) that saw it. */
  seen: number;
}

const KEY_LEN = 15;

/**
 * Parses the messages of a sock_diag dump or of destroy events. Holds last poll's rows by socket cookie (the
 * kernel's unique id of a socket), so that in the steady state an unchanged socket costs a dozen integer reads
 * and no allocation; `rotate()` starts a poll, and rows not seen again are dropped then.
 */
export class DiagParser {
  /**
   * Rows of this poll and the one before, by cookie. One map, pruned by rotate(), rather than a new one filled
   * each poll: ten thousand inserts into a growing Map were a third of a steady poll's parse.
   */
  private readonly rows = new Map<number, Cached>();
  private poll = 0;
  private readonly v4 = new Map<number, string>();
  private readonly v6 = new Map<string, string>();
  private readonly key: number[] = new Array<number>(KEY_LEN).fill(0);
  private readonly v6bytes = new Uint8Array(16);
  /** `cache`: keep rows by cookie between polls (off for destroy events: each socket is seen once). */
  constructor(
    private readonly littleEndian = true,
    private readonly cache = true,
  ) {}

  rotate(): void {
    this.poll++;
    // what the poll that ended did not see is gone
    for (const [cookie, c] of this.rows) if (c.seen < this.poll - 1) this.rows.delete(cookie);
  }

  /**
   * Parses `buf[0, len)` into `out`, rows of `protocol`, for messages of sequence `seq` (null: any, for events).
   * Never throws on any input.
   */
  parse(buf: Buffer, len: number, protocol: Protocol, seq: number | null, out: DiagRow[]): DiagChunk {
    const chunk: DiagChunk = { done: false, error: null, interrupted: false, errors: [] };
    const end = Math.min(len, buf.length);
    let off = 0;
    while (off + NLMSG_HDRLEN <= end) {
      const msgLen = this.u32(buf, off);
      const type = this.u16(buf, off + 4);
      const flags = this.u16(buf, off + 6);
      const msgSeq = this.u32(buf, off + 8);
      if (msgLen < NLMSG_HDRLEN || msgLen > end - off) {
        chunk.errors.push({ offset: off, reason: `message length ${msgLen} does not fit the ${end - off} bytes left` });
        return chunk; // nothing after a bad length can be trusted to start where it says
      }
      if (flags & NLM_F_DUMP_INTR) chunk.interrupted = true;
      if (seq === null || msgSeq === seq) {
        if (type === NLMSG_DONE) {
          // a dump that failed (no handler for the protocol) ends with DONE carrying the negative errno
          const status = msgLen >= NLMSG_HDRLEN + 4 ? this.i32(buf, off + NLMSG_HDRLEN) : 0;
          if (status < 0) chunk.error = status;
          chunk.done = true;
          return chunk;
        }
        if (type === NLMSG_ERROR) {
          chunk.error = msgLen >= NLMSG_HDRLEN + 4 ? this.i32(buf, off + NLMSG_HDRLEN) : -1;
          chunk.done = true;
          return chunk;
        }
        if (type === NLMSG_OVERRUN) {
          chunk.errors.push({ offset: off, reason: 'the kernel reported an overrun: messages were lost' });
        } else if (type === SOCK_DIAG_BY_FAMILY || type === TCPDIAG_GETSOCK) {
          const r = this.message(buf, off + NLMSG_HDRLEN, off + msgLen, protocol);
          if (typeof r === 'string') chunk.errors.push({ offset: off, reason: r });
          else if (r !== null) out.push(r);
        }
      }
      off += (msgLen + 3) & ~3;
    }
    if (off < end) chunk.errors.push({ offset: off, reason: `${end - off} trailing bytes are not a whole message header` });
    return chunk;
  }

  // Bytes combined by hand rather than Buffer's readers, which check their arguments on every call: a listing
  // runs these tens of thousands of times, cold. Every caller has checked `at` against the message's end.
  private u32(b: Buffer, at: number): number {
    const x = b[at] as number;
    const y = b[at + 1] as number;
    const z = b[at + 2] as number;
    const w = b[at + 3] as number;
    return this.littleEndian ? ((w << 24) | (z << 16) | (y << 8) | x) >>> 0 : ((x << 24) | (y << 16) | (z << 8) | w) >>> 0;
  }

  private i32(b: Buffer, at: number): number {
    return this.littleEndian ? b.readInt32LE(at) : b.readInt32BE(at);
  }

  private u16(b: Buffer, at: number): number {
    const x = b[at] as number;
    const y = b[at + 1] as number;
    return this.littleEndian ? (y << 8) | x : (x << 8) | y;
  }

  /** u64 as a Number (exact below 2^53: 9 PB of traffic on one socket). */
  private u64(b: Buffer, at: number): number {
    const lo = this.u32(b, at);
    const hi = this.u32(b, at + 4);
    return this.littleEndian ? hi * 4294967296 + lo : lo * 4294967296 + hi;
  }

  /**
   * Data bytes sent: bytes_sent less bytes_retrans (Linux 4.19+), else bytes_acked (Linux 4.1+; on the side
   * that connected it counts the SYN's one sequence number too), else unknown (-1).
   */
  private bytesSent(b: Buffer, info: number, infoLen: number): number {
    if (infoLen >= 216) return Math.max(0, this.u64(b, info + 200) - this.u64(b, info + 208));
    if (infoLen >= 128) return this.u64(b, info + 120);
    return -1;
  }

  /** One inet_diag_msg and its attributes in [at, end). Returns a reason when it does not add up, null to skip. */
  private message(b: Buffer, at: number, end: number, protocol: Protocol): DiagRow | string | null {
    if (end - at < DIAG_MSG_LEN) return `socket message of ${end - at} bytes, shorter than inet_diag_msg (${DIAG_MSG_LEN})`;
    const fam = b[at] as number;
    if (fam !== AF_INET && fam !== AF_INET6) return `unknown address family ${fam}`;
    const family: Family = fam === AF_INET ? 4 : 6;
    const stateCode = b[at + 1] as number;
    // ports in network order
    const sport = ((b[at + 4] as number) << 8) | (b[at + 5] as number);
    const dport = ((b[at + 6] as number) << 8) | (b[at + 7] as number);
    const ifindex = this.u32(b, at + 40);
    const cookie = this.u32(b, at + 44) + this.u32(b, at + 48) * 4294967296;
    const uid = this.u32(b, at + 64);
    const inode = this.u32(b, at + 68);

    let v6only: boolean | null = null;
    let info = -1;
    let infoLen = 0;
    for (let a = at + DIAG_MSG_LEN; a + 4 <= end;) {
      const alen = this.u16(b, a);
      const atype = this.u16(b, a + 2) & 0x3fff;
      if (alen < 4 || alen > end - a) return `attribute ${atype} of length ${alen} does not fit the ${end - a} bytes left`;
      if (atype === INET_DIAG_INFO) {
        info = a + 4;
        infoLen = alen - 4;
      } else if (atype === INET_DIAG_SKV6ONLY && alen >= 5) {
        v6only = b[a + 4] !== 0;
      }
      a += (alen + 3) & ~3;
    }
    // tcp_info grows with kernel versions: a field is read only when the attribute reaches it. The RTT alone
    // does not make a row new (it moves on every ACK): it is refreshed when something else changes.
    const rttUs = info >= 0 && infoLen >= 72 ? this.u32(b, info + 68) : -1;
    const bytesOut = info >= 0 ? this.bytesSent(b, info, infoLen) : -1;
    const bytesIn = info >= 0 && infoLen >= 136 ? dataReceived(this.u64(b, info + 128), stateCode) : -1;

    const key = this.key;
    if (this.cache) {
      key[0] = sport;
      key[1] = dport;
      key[2] = stateCode;
      key[3] = uid;
      key[4] = inode;
      key[5] = ifindex;
      for (let w = 0; w < 8; w++) key[6 + w] = be32(b, at + 8 + w * 4);
      key[14] = v6only === null ? -1 : v6only ? 1 : 0;
    }
    const hit = this.cache ? this.rows.get(cookie) : undefined;
    if (hit !== undefined && hit.row.protocol === protocol && hit.row.family === family && sameKey(hit.key, key)) {
      const r = hit.row;
      if (r.state === 'LISTEN' || (r.bytesIn === (bytesIn < 0 ? null : bytesIn) && r.bytesOut === (bytesOut < 0 ? null : bytesOut))) {
        hit.seen = this.poll;
        return hit.row;
      }
    }

    let state: SocketState | undefined;
    const tcpish = protocol === 'tcp' || protocol === 'mptcp';
    if (tcpish) state = TCP_STATE_BY_CODE[stateCode];
    else state = stateCode === TCP_CLOSE ? 'UNCONN' : stateCode === 1 ? 'ESTABLISHED' : undefined;
    if (state === undefined) return `unknown ${protocol} state ${stateCode}`;
    // a bound-only TCP socket (dumped for TCPF_BOUND_INACTIVE) reads as CLOSE with no peer and an inode
    if (tcpish && stateCode === TCP_CLOSE && dport === 0 && inode !== 0 && zeroes(b, at + 24, 16)) state = 'BOUND';
    const localAddress = this.address(b, at + 8, family);
    const remote = this.address(b, at + 24, family);
    const noPeer = state === 'LISTEN' || state === 'UNCONN' || state === 'BOUND';
    // a listener's counters and RTT are zeroes that mean nothing
    const counted = state !== 'LISTEN';
    const row: DiagRow = {
      protocol,
      family,
      localAddress,
      localPort: sport,
      remoteAddress: noPeer ? null : remote,
      remotePort: noPeer ? null : dport,
      state,
      stateCode,
      uid,
      inode,
      ifindex,
      v6only,
      bytesIn: bytesIn < 0 || !counted ? null : bytesIn,
      bytesOut: bytesOut < 0 || !counted ? null : bytesOut,
      rttMs: rttUs < 0 || !counted ? null : rttUs / 1000,
      iface: undefined,
      netns: undefined,
      container: undefined,
    };
    if (this.cache && cookie !== 0) {
      if (hit !== undefined) {
        // changed: the record is reused, its key rewritten
        hit.row = row;
        for (let i = 0; i < KEY_LEN; i++) hit.key[i] = key[i] as number;
        hit.seen = this.poll;
      } else this.rows.set(cookie, { row, key: key.slice(), seen: this.poll });
    }
    return row;
  }

  private address(b: Buffer, at: number, family: Family): string {
    if (family === 4) {
      const v = be32(b, at);
      let s = this.v4.get(v);
      if (s === undefined) {
        s = `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
        if (this.v4.size > 50_000) this.v4.clear();
        this.v4.set(v, s);
      }
      return s;
    }
    const k = b.toString('latin1', at, at + 16);
    let s = this.v6.get(k);
    if (s === undefined) {
      for (let i = 0; i < 16; i++) this.v6bytes[i] = b[at + i] as number;
      s = formatIpv6Bytes(this.v6bytes);
      if (this.v6.size > 50_000) this.v6.clear();
      this.v6.set(k, s);
    }
    return s;
  }
}

/**
 * bytes_received counts sequence numbers, and the peer's FIN takes one: not data. The states after a FIN came
 * in say it did; a freed socket (CLOSE) mostly got one too (a normal close), so its count is one low after a reset.
 */
function dataReceived(received: number, stateCode: number): number {
  const finIn =
    stateCode === 6 /* TIME_WAIT */ ||
    stateCode === 7 /* CLOSE */ ||
    stateCode === 8 /* CLOSE_WAIT */ ||
    stateCode === 9 /* LAST_ACK */ ||
    stateCode === 11; /* CLOSING */
  return finIn ? Math.max(0, received - 1) : received;
}

/** A u32 in network order at `at` (checked by the caller). */
function be32(b: Buffer, at: number): number {
  return (((b[at] as number) << 24) | ((b[at + 1] as number) << 16) | ((b[at + 2] as number) << 8) | (b[at + 3] as number)) >>> 0;
}

function zeroes(b: Buffer, at: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[at + i] !== 0) return false;
  return true;
}

function sameKey(a: number[], b: number[]): boolean {
  for (let i = 0; i < KEY_LEN; i++) if (a[i] !== b[i]) return false;
  return true;
}
