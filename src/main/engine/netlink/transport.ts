import { endianness } from 'node:os';
import type { Protocol } from '../../../shared/model';
import {
  AF_NETLINK,
  EAGAIN,
  EINTR,
  ENOBUFS,
  MSG_DONTWAIT,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOL_SOCKET,
  SO_RCVBUF,
  SO_RCVTIMEO,
  libc,
  type Libc,
} from '../native/libc';
import { DiagParser, dumpRequest, NETLINK_SOCK_DIAG, type DiagChunk, type DiagParseError, type DiagRow, type DumpSpec } from './sockDiag';

const LITTLE_ENDIAN = endianness() === 'LE';
const MSG_TRUNC = 0x20;
const SO_RCVBUFFORCE = 33;
/** A dump that has not answered in this long is given up (the kernel answers dumps at once). */
const DUMP_TIMEOUT_S = 5;
/** How many times a dump the kernel marks inconsistent (NLM_F_DUMP_INTR) is started again. */
const DUMP_RETRIES = 3;

/** A sockaddr_nl: the kernel (pid 0), joined to `groups`. */
export function sockaddrNl(groups: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(AF_NETLINK, 0);
  if (LITTLE_ENDIAN) b.writeUInt32LE(groups >>> 0, 8);
  else b.writeUInt32BE(groups >>> 0, 8);
  return b;
}

function intOpt(v: number): Buffer {
  const b = Buffer.alloc(4);
  if (LITTLE_ENDIAN) b.writeInt32LE(v, 0);
  else b.writeInt32BE(v, 0);
  return b;
}

/** A struct timeval of whole seconds, for SO_RCVTIMEO. */
export function timeval(seconds: number): Buffer {
  const b = Buffer.alloc(16);
  if (LITTLE_ENDIAN) b.writeBigInt64LE(BigInt(seconds), 0);
  else b.writeBigInt64BE(BigInt(seconds), 0);
  return b;
}

export function errnoText(errno: number): string {
  const names: Record<number, string> = {
    1: 'EPERM',
    2: 'ENOENT',
    13: 'EACCES',
    22: 'EINVAL',
    93: 'EPROTONOSUPPORT',
    97: 'EAFNOSUPPORT',
    105: 'ENOBUFS',
    11: 'EAGAIN',
  };
  return names[errno] ?? `errno ${errno}`;
}

export interface DumpOutcome {
  /** The kernel's error for this dump (positive errno), e.g. ENOENT when no module handles that protocol. */
  error: number | null;
  /** Still inconsistent after every retry (the rows are kept). */
  interrupted: boolean;
  errors: DiagParseError[];
}

/**
 * A NETLINK_SOCK_DIAG socket: dumps on request, or (bound to the destroy groups) events as they come. Owns its
 * descriptor; `close()` lets go of it. Every recv is into a buffer this object owns, of the length it states.
 */
export class DiagSocket {
  private readonly c: Libc;
  private fd: number;
  private seq = 1;
  private buf = Buffer.allocUnsafe(1 << 16);
  /** Destroy events the kernel dropped because the queue was full (ENOBUFS), since the last drain. */
  lost = 0;
  /** Sees every datagram received, as received (fixtures are recorded through it). */
  tap: ((datagram: Buffer) => void) | null = null;

  /**
   * `groups`: multicast groups to join (destroy events), 0 for a dump socket. `open`: makes the descriptor,
   * e.g. inside another network namespace; by default a plain socket() in this thread's namespace.
   */
  constructor(groups = 0, open?: () => number) {
    this.c = libc();
    const c = this.c;
    const fd = open ? open() : c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) throw new Error(`cannot open a sock_diag netlink socket: ${errnoText(c.errno())}`);
    this.fd = fd;
    if (groups !== 0) {
      // a deep queue for bursts of closes between two drains; root may go past rmem_max
      if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, intOpt(16 << 20)) < 0) c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, intOpt(16 << 20));
      if (c.bind(fd, sockaddrNl(groups)) < 0) {
        const e = c.errno();
        c.close(fd);
        this.fd = -1;
        throw new Error(`cannot join the sock_diag destroy groups: ${errnoText(e)}`);
      }
    } else {
      c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeval(DUMP_TIMEOUT_S));
    }
  }

  get open(): boolean {
    return this.fd >= 0;
  }

  /** The descriptor, for a helper thread that receives on it (see DumpStream); -1 once closed. */
  get descriptor(): number {
    return this.fd;
  }

  /** A dump request with this socket's next sequence number, for someone else to send on it. */
  nextRequest(spec: DumpSpec): { seq: number; request: Buffer } {
    const seq = this.seq++;
    return { seq, request: dumpRequest(seq, spec, LITTLE_ENDIAN) };
  }

  /**
   * Reads and drops whatever is queued (never blocks): what is left of a dump someone else gave up on, which
   * would otherwise keep the kernel from starting another on this socket (EBUSY).
   */
  discardQueued(): void {
    if (this.fd < 0) return;
    for (let i = 0; i < 100_000; i++) if (this.receive(MSG_DONTWAIT) < 0) return;
  }

  close(): void {
    if (this.fd >= 0) this.c.close(this.fd);
    this.fd = -1;
  }

  /** One recv; the message length (also when it did not fit: then the buffer grows and the caller asks again). */
  private receive(flags: number): number {
    for (;;) {
      const n = this.c.recv(this.fd, this.buf, flags | MSG_TRUNC);
      if (n < 0) {
        const e = this.c.errno();
        if (e === EINTR) continue;
        return -e;
      }
      return n;
    }
  }

  /**
   * Dumps one family and protocol into `out` (appended), parsed by `parser`. A dump the kernel marks as
   * interrupted (its tables changed meanwhile) is taken again, so the result is one consistent view.
   */
  dump(spec: DumpSpec, parser: DiagParser, out: DiagRow[]): DumpOutcome {
    if (this.fd < 0) throw new Error('the sock_diag socket is closed');
    const start = out.length;
    const nl = sockaddrNl(0);
    for (let attempt = 1; ; attempt++) {
      out.length = start;
      const seq = this.seq++;
      const req = dumpRequest(seq, spec, LITTLE_ENDIAN);
      if (this.c.sendto(this.fd, req, 0, nl) !== req.length) throw new Error(`sock_diag request failed: ${errnoText(this.c.errno())}`);
      const errors: DiagParseError[] = [];
      let interrupted = false;
      let error: number | null = null;
      for (;;) {
        const n = this.receive(0);
        if (n < 0) {
          if (-n === EAGAIN) throw new Error(`sock_diag dump of ${spec.protocol}${spec.family === 6 ? '6' : ''} got no answer in ${DUMP_TIMEOUT_S} s`);
          throw new Error(`sock_diag dump failed: ${errnoText(-n)}`);
        }
        if (n > this.buf.length) {
          // a message larger than the buffer was cut: it is lost, and the dump is taken again with room for it
          this.buf = Buffer.allocUnsafe(Math.min(n * 2, 1 << 24));
          interrupted = true;
          continue;
        }
        this.tap?.(Buffer.from(this.buf.subarray(0, n)));
        const chunk: DiagChunk = parser.parse(this.buf, n, spec.protocol, seq, out);
        if (chunk.interrupted) interrupted = true;
        for (const e of chunk.errors) if (errors.length < 20) errors.push(e);
        if (chunk.done) {
          if (chunk.error !== null && chunk.error !== 0) error = -chunk.error;
          break;
        }
        if (n === 0) break;
      }
      if (!interrupted || attempt >= DUMP_RETRIES || error !== null) return { error, interrupted, errors };
    }
  }

  /**
   * Reads every event queued now (never blocks), at most `max`; parsed as `protocol` rows into `out`. Events
   * past `max` stay queued for the next drain.
   */
  drain(parser: DiagParser, protocol: Protocol, out: DiagRow[], max: number): DiagParseError[] {
    const errors: DiagParseError[] = [];
    if (this.fd < 0) return errors;
    while (out.length < max) {
      const n = this.receive(MSG_DONTWAIT);
      if (n < 0) {
        if (-n === ENOBUFS) {
          // the queue overflowed: the kernel dropped events; counted, and reading goes on
          this.lost++;
          continue;
        }
        break; // EAGAIN: nothing more now
      }
      if (n > this.buf.length) {
        this.buf = Buffer.allocUnsafe(Math.min(n * 2, 1 << 24));
        errors.push({ offset: 0, reason: `an event of ${n} bytes did not fit the buffer and was lost` });
        continue;
      }
      this.tap?.(Buffer.from(this.buf.subarray(0, n)));
      const chunk = parser.parse(this.buf, n, protocol, null, out);
      for (const e of chunk.errors) if (errors.length < 20) errors.push(e);
    }
    return errors;
  }
}
