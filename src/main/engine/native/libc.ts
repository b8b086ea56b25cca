import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The few libc calls Node has no API for (netlink sockets, setns, pidfd), through koffi: its binary ships inside
 * the npm package (N-API), so one build serves Node, worker threads and Electron, with nothing compiled or
 * downloaded at install.
 *
 * Every call here passes Buffers whose lengths the caller states and this module checks: a wrong length given to
 * native code would take the whole process down, not just a poll. Calls return -1 with `errno()` set, as in C;
 * nothing here throws except `libc()` when koffi or libc cannot be loaded (then callers fall back).
 */

/** What the rest of the engine may call. Lengths are always the Buffer's own, so none can overrun. */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  /** bind() of a sockaddr given as bytes. */
  bind(fd: number, addr: Buffer): number;
  /** sendto() of the whole of `data` to the sockaddr `addr`. */
  sendto(fd: number, data: Buffer, flags: number, addr: Buffer): number;
  /** recv() into `buf` from offset 0, at most its length. */
  recv(fd: number, buf: Buffer, flags: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer): number;
  close(fd: number): number;
  open(path: string, flags: number): number;
  /** readlinkat(2) into `buf` (at most its length); the link's length, or -1. The text is not NUL-ended. */
  readlinkat(dirfd: number, name: string, buf: Buffer): number;
  setns(fd: number, nstype: number): number;
  /** pidfd_open(2); -1 with ENOSYS on kernels before 5.3. */
  pidfdOpen(pid: number): number;
  /** pidfd_send_signal(2) without siginfo. */
  pidfdSendSignal(pidfd: number, signal: number): number;
  /** if_indextoname(3) in this thread's network namespace; null when no device has that index. */
  ifIndexToName(index: number): string | null;
  /** flock(2): an advisory lock on an open file, released when the descriptor closes or the process dies. */
  flock(fd: number, operation: number): number;
  /** kcmp(2) of two tasks' resources of one `type` (no index): 0 the same, 1-3 different; -1 with ENOSYS where unknown. */
  kcmp(pid1: number, pid2: number, type: number): number;
  /** errno of the last failed call on this thread. */
  errno(): number;
}

export const AF_NETLINK = 16;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVTIMEO = 20;
export const SOL_NETLINK = 270;
export const NETLINK_NO_ENOBUFS = 5;
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const O_DIRECTORY = 0o200000;
export const CLONE_NEWNET = 0x40000000;
export const EAGAIN = 11;
export const EINTR = 4;
export const ENOBUFS = 105;
export const ESRCH = 3;
export const EPERM = 1;
export const ENOSYS = 38;
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const EWOULDBLOCK = 11;

const IF_NAMESIZE = 16;
const SYS_PIDFD_SEND_SIGNAL = 424;
const SYS_PIDFD_OPEN = 434;
/** kcmp(2)'s number differs by architecture (not one of the unified ones); null where none is known here. */
const SYS_KCMP: number | null = process.arch === 'x64' ? 312 : process.arch === 'arm64' ? 272 : null;
const KCMP_FILES = 2;

let loaded: Libc | null = null;
let failure: Error | null = null;

/** libc through koffi, loaded once per thread. Throws (the same error each time) when it cannot be loaded. */
export function libc(): Libc {
  if (loaded) return loaded;
  if (failure) throw failure;
  try {
    loaded = load();
    return loaded;
  } catch (e) {
    failure = new Error(`cannot load libc through koffi: ${(e as Error).message}`, { cause: e });
    throw failure;
  }
}

/** The koffi API Portwatch uses: what its native module exports itself. */
type Koffi = Pick<typeof import('koffi'), 'load' | 'errno'>;

/** Architectures whose koffi binary sits at build/koffi/linux_<process.arch> (glibc); others need koffi's own detection. */
const PLAIN_ARCHES = new Set(['x64', 'arm64', 'ia32', 'loong64']);

/**
 * What to require() for koffi: its native module itself where the path is plain (glibc Linux on the common
 * architectures), else the package. The package's index.js does little more than find that file, but it loads
 * node:https, zlib and crypto to do it (its installer's tools): about 10 ms at every start of the CLI.
 */
export function koffiModule(): string {
  const pkg = createRequire(__filename).resolve('koffi');
  if (process.platform !== 'linux' || !PLAIN_ARCHES.has(process.arch)) return pkg;
  const native = join(dirname(pkg), 'build', 'koffi', `linux_${process.arch}`, 'koffi.node');
  return existsSync(native) ? native : pkg;
}

/** koffi, as koffiModule() finds it, or through the package when its native module will not load (musl). */
export function requireKoffi(): Koffi {
  const path = koffiModule();
  if (path.endsWith('.node')) {
    try {
      return createRequire(__filename)(path) as Koffi;
    } catch {
      // the package's own detection follows
    }
  }
  // spelled out as a literal require of the package: test/globalSetup.ts finds what the bundles load so
  return createRequire(__filename)('koffi') as Koffi;
}

function load(): Libc {
  if (process.platform !== 'linux') throw new Error(`not Linux (${process.platform})`);
  // required at first use, not at import: a CLI that never needs native calls never pays for koffi
  const koffi = requireKoffi();
  const lib = koffi.load('libc.so.6');
  const socket = lib.func('int socket(int, int, int)');
  const bind = lib.func('int bind(int, const void *, uint32_t)');
  const sendto = lib.func('intptr_t sendto(int, const void *, uintptr_t, int, const void *, uint32_t)');
  const recv = lib.func('intptr_t recv(int, void *, uintptr_t, int)');
  const setsockopt = lib.func('int setsockopt(int, int, int, const void *, uint32_t)');
  const close = lib.func('int close(int)');
  const open = lib.func('int open(const char *, int)');
  const readlinkat = lib.func('intptr_t readlinkat(int, const char *, void *, uintptr_t)');
  const setns = lib.func('int setns(int, int)');
  const ifIndexToName = lib.func('void *if_indextoname(unsigned int, void *)');
  const flock = lib.func('int flock(int, int)');
  const syscall2 = lib.func('long syscall(long, int, unsigned int)');
  const syscall4 = lib.func('long syscall(long, int, int, void *, unsigned int)');
  const syscall5 = lib.func('long syscall(long, int, int, int, unsigned long, unsigned long)');
  return {
    socket: (d, t, p) => socket(d, t, p) as number,
    bind: (fd, addr) => bind(fd, addr, addr.length) as number,
    sendto: (fd, data, flags, addr) => Number(sendto(fd, data, data.length, flags, addr, addr.length)),
    recv: (fd, buf, flags) => Number(recv(fd, buf, buf.length, flags)),
    setsockopt: (fd, level, name, value) => setsockopt(fd, level, name, value, value.length) as number,
    close: (fd) => close(fd) as number,
    open: (path, flags) => open(path, flags) as number,
    readlinkat: (dirfd, name, buf) => Number(readlinkat(dirfd, name, buf, buf.length)),
    setns: (fd, type) => setns(fd, type) as number,
    pidfdOpen: (pid) => Number(syscall2(SYS_PIDFD_OPEN, pid, 0)),
    pidfdSendSignal: (pidfd, signal) => Number(syscall4(SYS_PIDFD_SEND_SIGNAL, pidfd, signal, null, 0)),
    ifIndexToName: (index) => {
      const name = Buffer.alloc(IF_NAMESIZE);
      if (ifIndexToName(index >>> 0, name) === null) return null;
      const end = name.indexOf(0);
      return name.toString('utf8', 0, end < 0 ? IF_NAMESIZE : end);
    },
    flock: (fd, operation) => flock(fd, operation) as number,
    kcmp: (pid1, pid2, type) => {
      if (SYS_KCMP === null) {
        koffi.errno(ENOSYS);
        return -1;
      }
      return Number(syscall5(SYS_KCMP, pid1, pid2, type, 0, 0));
    },
    errno: () => koffi.errno(),
  };
}

/** What linkInodeAt returns besides a socket's inode. */
export const LINK_NOT_SOCKET = -1;
export const LINK_DENIED = -2;
export const LINK_GONE = -3;
const EACCES = 13;
const linkBuf = Buffer.alloc(64);

/**
 * Opens a directory (a /proc/<pid>/fd) for linkInodeAt: its descriptor, or -1 with errno set (as open(2)).
 * Throws only when libc cannot be loaded.
 */
export function openDirectory(path: string): number {
  return libc().open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/** Whether the last failed call on this thread was refused for want of permission (EACCES, EPERM). */
export function lastDenied(): boolean {
  const e = libc().errno();
  return e === EACCES || e === EPERM;
}

/**
 * What descriptor `name` of the /proc/<pid>/fd open as `dirfd` is: a socket's inode, LINK_NOT_SOCKET,
 * LINK_DENIED (EACCES, EPERM) or LINK_GONE (closed, or never open). readlinkat() into one buffer: a quarter
 * cheaper than fs.readlinkSync of the whole path, which resolves /proc/<pid>/fd again for every descriptor,
 * makes a string of each link and an exception of each closed one. Throws only when libc cannot be loaded.
 */
export function linkInodeAt(dirfd: number, name: string): number {
  const c = libc();
  const n = c.readlinkat(dirfd, name, linkBuf);
  if (n < 0) return lastDenied() ? LINK_DENIED : LINK_GONE;
  return socketLinkInode(linkBuf, n);
}

/**
 * The inode of a descriptor's link text, the first `n` bytes of `buf` ("socket:[12345]"), or LINK_NOT_SOCKET (-1)
 * for any other. Self-contained: a walk's helper thread runs it from its source text.
 */
export function socketLinkInode(buf: Buffer, n: number): number {
  // "socket:[" is 73 6f 63 6b 65 74 3a 5b, and the text ends with "]"
  if (n < 10 || n > buf.length || buf[n - 1] !== 0x5d) return -1;
  if (buf[0] !== 0x73 || buf[1] !== 0x6f || buf[2] !== 0x63 || buf[3] !== 0x6b || buf[4] !== 0x65 || buf[5] !== 0x74 || buf[6] !== 0x3a || buf[7] !== 0x5b)
    return -1;
  let inode = 0;
  for (let i = 8; i < n - 1; i++) {
    const d = (buf[i] as number) - 48;
    if (d < 0 || d > 9) return -1;
    inode = inode * 10 + d;
  }
  return inode;
}

let kcmpMissing = false;

/**
 * Whether two tasks (by pid or tid, in this pid namespace) share one descriptor table, as the kernel says
 * (kcmp(2), KCMP_FILES): comparing descriptor counts or listings instead races with a table that changes
 * between the two reads. null when it cannot say: no kcmp here (architecture, or a kernel built without it), not
 * allowed to compare them (ptrace's read access), a task gone, or no libc.
 */
export function sameFdTable(pid1: number, pid2: number): boolean | null {
  if (kcmpMissing) return null;
  let c: Libc;
  try {
    c = libc();
  } catch {
    kcmpMissing = true;
    return null;
  }
  const r = c.kcmp(pid1, pid2, KCMP_FILES);
  if (r >= 0) return r === 0;
  if (c.errno() === ENOSYS) kcmpMissing = true;
  return null;
}

/** The name of interface `index` in this thread's namespace, or null (no such device, or no libc). */
export function ifIndexToName(index: number): string | null {
  try {
    return libc().ifIndexToName(index);
  } catch {
    return null;
  }
}
