import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { CLONE_NEWNET, libc, O_CLOEXEC, O_RDONLY } from './native/libc';

/**
 * The machine's network namespaces, as far as /proc shows them, and a way into each.
 *
 * A namespace is known by the text of its `ns/net` link, `net:[4026531840]` (the nsfs inode): the same in
 * every process and thread, stable for the namespace's whole life. Sockets belong to a namespace, so a socket
 * table read from one namespace (ours) misses every container's and every `ip netns`'s sockets; the netlink
 * source opens one sock_diag socket inside each namespace listed here, through `inNetns`.
 */

/** One network namespace other than ours. */
export interface NetNamespace {
  /** The link text, `net:[4026532281]`: the namespace's identity, and the short id to display. */
  id: string;
  /** The nsfs inode in `id`. */
  inode: number;
  /** The lowest pid of a live process in it; null when no process we can see is in it (pinned by /run/netns). */
  pid: number | null;
  /** How many processes we saw in it: 0 when only a bind mount pins it, or when none of its processes is readable to us. */
  pids: number;
  /** The file to open for setns(2): /run/netns/NAME when it has a name (it outlives any one process), else /proc/PID/ns/net. */
  path: string;
  /** Its `ip netns` name when a bind mount in /run/netns pins it (the first by name when several do), else null. */
  name: string | null;
  /** The container (12 hex characters of its id) that `pid` runs in, from its cgroup, else null. */
  container: string | null;
}

/** What `listNetNamespaces` found. */
export interface NetNamespaces {
  /** Our own process's namespace (`/proc/self/ns/net`), null if even that cannot be read. */
  self: string | null;
  /** Every other namespace, ordered by inode, so that the order is stable from one call to the next. */
  others: NetNamespace[];
  /**
   * How many processes' namespaces we could not read (EACCES: without root, other users' processes). Kernel
   * threads are not counted: they are always in the first namespace and hold no sockets of their own.
   */
  unreadable: number;
}

const NS_LINK = /^net:\[(\d+)\]$/;
/** PF_KTHREAD in /proc/PID/stat's flags field. */
const PF_KTHREAD = 0x00200000;

/** The nsfs inode of a `net:[N]` link text, or null when the text is not one. */
export function nsInode(id: string): number | null {
  const m = NS_LINK.exec(id);
  return m ? Number(m[1]) : null;
}

/** A label for people: `NAME (net:[N])`, `container ID (net:[N])` or just `net:[N]`; `id` stays the key. */
export function netnsLabel(ns: Pick<NetNamespace, 'id' | 'name' | 'container'>): string {
  if (ns.name) return `${ns.name} (${ns.id})`;
  if (ns.container) return `container ${ns.container} (${ns.id})`;
  return ns.id;
}

/**
 * Every network namespace reachable from /proc (one readlink per process: cheap at a few hundred processes),
 * plus those pinned only by a bind mount in `netnsDir` (`ip netns add` with no process in it: no process
 * sockets, but TIME_WAIT and other kernel-held sockets may live there). Never throws: processes vanish while
 * we read and are skipped; unreadable ones are counted.
 */
export function listNetNamespaces(procRoot = '/proc', netnsDir = '/run/netns'): NetNamespaces {
  const self = readLink(`${procRoot}/self/ns/net`);
  const byId = new Map<string, { pid: number; pids: number }>();
  let unreadable = 0;
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    entries = [];
  }
  for (const entry of entries) {
    const pid = toPid(entry);
    if (pid === null) continue;
    let id: string;
    try {
      id = readlinkSync(`${procRoot}/${pid}/ns/net`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOENT: gone, or a zombie (its namespaces are released); anything else but a refusal: skip as well
      if ((code === 'EACCES' || code === 'EPERM') && !isKernelThread(procRoot, pid)) unreadable++;
      continue;
    }
    if (!NS_LINK.test(id) || id === self) continue;
    const seen = byId.get(id);
    if (!seen) byId.set(id, { pid, pids: 1 });
    else {
      seen.pids++;
      if (pid < seen.pid) seen.pid = pid;
    }
  }

  const names = namedNamespaces(netnsDir, nsfsDevice(procRoot));
  const others: NetNamespace[] = [];
  for (const [id, { pid, pids }] of byId) {
    const inode = nsInode(id) as number;
    const name = names.get(inode) ?? null;
    others.push({
      id,
      inode,
      pid,
      pids,
      path: name ? `${netnsDir}/${name}` : `${procRoot}/${pid}/ns/net`,
      name,
      container: containerOf(pid, procRoot),
    });
  }
  const selfInode = self ? nsInode(self) : null;
  for (const [inode, name] of names) {
    const id = `net:[${inode}]`;
    if (inode === selfInode || byId.has(id)) continue;
    others.push({ id, inode, pid: null, pids: 0, path: `${netnsDir}/${name}`, name, container: null });
  }
  others.sort((a, b) => a.inode - b.inode);
  return { self, others, unreadable };
}

/** The container that process `pid` runs in (12 hex characters), from /proc/PID/cgroup; null if none or gone. */
export function containerOf(pid: number, procRoot = '/proc'): string | null {
  try {
    return containerIdFromCgroup(readFileSync(`${procRoot}/${pid}/cgroup`, 'latin1'));
  } catch {
    return null;
  }
}

/** `docker-ID.scope`, `cri-containerd-ID.scope`, `crio-ID.scope`, `libpod-ID.scope` (systemd cgroup driver). */
const SCOPE = /^(?:docker|cri-containerd|crio|libpod)-([0-9a-f]{64})\.scope$/;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The container id (first 12 hex characters) that a /proc/PID/cgroup text names, else null. Knows the
 * systemd driver's scopes (`docker-`, `cri-containerd-`, `crio-`, `libpod-ID.scope`) and the cgroupfs driver's
 * bare ids under `/docker/` or `/kubepods…/`; cgroup v1 (`N:controllers:path`) and v2 (`0::path`) lines alike.
 * The first line that names one wins; within a path, the innermost (a container in a container is the inner).
 */
export function containerIdFromCgroup(text: string): string | null {
  for (const line of text.split('\n')) {
    // hierarchy-id:controllers:path; the path itself may contain ':'
    const first = line.indexOf(':');
    const second = first < 0 ? -1 : line.indexOf(':', first + 1);
    if (second < 0) continue;
    const parts = line
      .slice(second + 1)
      .trim()
      .split('/');
    let found: string | null = null;
    let underRuntime = false;
    for (const part of parts) {
      const scope = SCOPE.exec(part);
      if (scope) found = scope[1] ?? null;
      else if (underRuntime && HEX64.test(part)) found = part;
      if (part === 'docker' || part.startsWith('kubepods')) underRuntime = true;
    }
    if (found) return found.slice(0, 12);
  }
  return null;
}

/** Why `inNetns` failed: `stranded` means this thread is left in another namespace, fatal for its worker. */
export type NetnsErrorCode = 'home' | 'open' | 'enter' | 'mismatch' | 'stranded';

/** An error from `inNetns`; `errno` is the failing call's, when there was one. */
export class NetnsError extends Error {
  readonly code: NetnsErrorCode;
  readonly errno: number | null;
  constructor(code: NetnsErrorCode, message: string, errno: number | null = null, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NetnsError';
    this.code = code;
    this.errno = errno;
  }
}

/**
 * Runs `fn` with this thread in the network namespace at `path` (a /proc/PID/ns/net or /run/netns/NAME), then
 * puts the thread back, whether `fn` returns or throws. setns(CLONE_NEWNET) moves only the calling OS thread, so
 * this is safe in a worker thread; sockets made inside keep the namespace after the thread leaves (that is the
 * point: a sock_diag socket made inside dumps that namespace's sockets). `fn` must be synchronous: anything it
 * defers runs back home. With `expectId`, throws (code `mismatch`, having gone home) when the namespace entered
 * is not that one: a /proc/PID path whose process died and whose pid was reused.
 *
 * Throws a NetnsError: `home`/`open`/`enter` (EPERM without CAP_SYS_ADMIN) when the thread never left;
 * `mismatch` when it went and came back; `stranded` when it could not come back (do not use this thread for
 * anything network-related again). `fn`'s own errors pass through unchanged; `libc()`'s load error too.
 */
export function inNetns<T>(path: string, fn: () => T, expectId?: string): T {
  const c = libc();
  const flags = O_RDONLY | O_CLOEXEC;
  const home = c.open('/proc/thread-self/ns/net', flags);
  if (home < 0) {
    const errno = c.errno();
    throw new NetnsError('home', `cannot open this thread's network namespace: ${errnoText(errno)}`, errno);
  }
  try {
    const target = c.open(path, flags);
    if (target < 0) {
      const errno = c.errno();
      throw new NetnsError('open', `cannot open network namespace ${path}: ${errnoText(errno)}`, errno);
    }
    let entered: number;
    let errno = 0;
    try {
      entered = c.setns(target, CLONE_NEWNET);
      if (entered < 0) errno = c.errno();
    } finally {
      c.close(target);
    }
    if (entered < 0) {
      const why =
        errno === osConstants.errno.EPERM ? ' (entering another namespace needs root)' : errno === osConstants.errno.EINVAL ? ' (not a network namespace)' : '';
      throw new NetnsError('enter', `cannot enter network namespace ${path}: ${errnoText(errno)}${why}`, errno);
    }

    let result: T | undefined;
    let failure: { error: unknown } | null = null;
    try {
      if (expectId !== undefined) {
        const now = readLink('/proc/thread-self/ns/net');
        if (now !== expectId) throw new NetnsError('mismatch', `${path} is ${now ?? 'unreadable'}, not ${expectId}`);
      }
      result = fn();
    } catch (e) {
      failure = { error: e };
    }
    if (c.setns(home, CLONE_NEWNET) < 0) {
      const back = c.errno();
      throw new NetnsError(
        'stranded',
        `thread stranded in network namespace ${path}: cannot return to its own: ${errnoText(back)}`,
        back,
        failure ? { cause: failure.error } : undefined,
      );
    }
    if (failure) throw failure.error;
    return result as T;
  } finally {
    c.close(home);
  }
}

function errnoText(errno: number): string {
  const name = Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0];
  return name ? `${name} (errno ${errno})` : `errno ${errno}`;
}

function toPid(entry: string): number | null {
  // only all-digit names are processes; skip the rest of /proc without a regex per entry
  const c = entry.charCodeAt(0);
  if (c < 48 || c > 57) return null;
  const pid = Number(entry);
  return Number.isInteger(pid) ? pid : null;
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function isKernelThread(procRoot: string, pid: number): boolean {
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
    // comm may hold spaces and parentheses: fields resume after the last ')'; flags is the 7th after it
    const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
    return Number.isFinite(flags) && (flags & PF_KTHREAD) !== 0;
  } catch {
    return false;
  }
}

/** The device of nsfs, so that a leftover plain file in /run/netns (not a mount) is not taken for a namespace. */
function nsfsDevice(procRoot: string): number | null {
  try {
    return statSync(`${procRoot}/self/ns/net`).dev;
  } catch {
    return null;
  }
}

/** inode -> name of the namespaces bind-mounted in `dir`, the first name (sorted) when several pin one. */
function namedNamespaces(dir: string, nsfsDev: number | null): Map<number, string> {
  const names = new Map<number, string>();
  let files: string[];
  try {
    files = readdirSync(dir).sort();
  } catch {
    return names;
  }
  for (const file of files) {
    try {
      const st = statSync(`${dir}/${file}`);
      if (nsfsDev !== null && st.dev !== nsfsDev) continue;
      if (!names.has(st.ino)) names.set(st.ino, file);
    } catch {
      // removed while we read, or not ours to stat
    }
  }
  return names;
}
