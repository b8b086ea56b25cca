import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from '../../src/shared/model';
import { BIN } from './paths';

/** Network namespaces need root and iproute2; tests that use them run only where both are there. */
export const canNetns = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;

/** A network namespace of a test's own, loopback up: an isolated world of sockets. */
export class Netns {
  readonly name: string;
  /** `prefix` + this process's pid, unless a `suffix` is given. */
  constructor(prefix: string, suffix: string = String(process.pid)) {
    this.name = `${prefix}${suffix}`;
  }

  /** One with a random name, so parallel runs and several namespaces in one file never collide. */
  static unique(prefix = 'pw-t-'): Netns {
    return new Netns(prefix, randomBytes(4).toString('hex'));
  }

  /** The bind mount that pins it, the file setns(2) opens. */
  get path(): string {
    return `/run/netns/${this.name}`;
  }

  /** Its identity as a process's ns/net link reads: `net:[INODE]`. */
  id(): string {
    return `net:[${statSync(this.path).ino}]`;
  }

  /** `ip` arguments that run a command inside it. */
  exec(...cmd: string[]): string[] {
    return ['netns', 'exec', this.name, ...cmd];
  }

  create(): void {
    execFileSync('ip', ['netns', 'add', this.name]);
    execFileSync('ip', this.exec('ip', 'link', 'set', 'lo', 'up'));
  }

  remove(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
  }

  /**
   * What `portwatch list --json` sees inside it, of its own sockets (`netns:self`): as root Portwatch lists every
   * other namespace's too (the host's among them), each marked with its `netns`.
   */
  list(env: NodeJS.ProcessEnv = process.env): Socket[] {
    const r = spawnSync('ip', this.exec(process.execPath, BIN, 'list', '--json', '--filter', 'netns:self'), {
      encoding: 'utf8',
      env,
      maxBuffer: 256 << 20,
    });
    // status 1: nothing matched (as lsof); the JSON is still there, with no sockets
    if (r.status !== 0 && r.status !== 1) throw new Error(`portwatch list in ${this.name}: status ${r.status}: ${r.stderr}`);
    const all = (JSON.parse(r.stdout) as { sockets: Socket[] }).sockets;
    return all.filter((s) => s.netns === null);
  }
}

/** Flags of a kernel thread in /proc/PID/stat (PF_KTHREAD among them), and of a user process. */
const KTHREAD_FLAGS = 0x00208040;
const USER_FLAGS = 0x00400100;

/**
 * A fake /proc (and /run/netns) on disk for the namespace listing: processes are directories whose ns/net is a
 * symlink to a `net:[N]` text that need not exist, as in procfs. `self` is one whose link does resolve, to a
 * file on the same filesystem as the fake /run/netns files, so their device check passes as nsfs's would.
 */
export class FakeProcTree {
  readonly proc: string;
  readonly netnsDir: string;
  /** The `net:[N]` of the fake /proc/self. */
  readonly selfId: string;

  constructor(readonly root: string) {
    this.proc = join(root, 'proc');
    this.netnsDir = join(root, 'run', 'netns');
    mkdirSync(this.netnsDir, { recursive: true });
    const ns = join(this.proc, 'self', 'ns');
    mkdirSync(ns, { recursive: true });
    // name the file after its own inode (rename keeps it), and point the link at it
    writeFileSync(join(ns, 'tmp'), '');
    this.selfId = `net:[${statSync(join(ns, 'tmp')).ino}]`;
    renameSync(join(ns, 'tmp'), join(ns, this.selfId));
    symlinkSync(this.selfId, join(ns, 'net'));
    mkdirSync(join(this.proc, 'sys'));
    writeFileSync(join(this.proc, 'uptime'), '1.00 1.00\n');
  }

  /** An `ip netns add NAME`: a file in the fake /run/netns; returns the id that processes in it link to. */
  pin(name: string): string {
    const file = join(this.netnsDir, name);
    writeFileSync(file, '');
    return `net:[${statSync(file).ino}]`;
  }

  /** A second name for a namespace already pinned (`ip netns attach`): a hard link shares the inode. */
  alias(name: string, of: string): void {
    linkSync(join(this.netnsDir, of), join(this.netnsDir, name));
  }

  /**
   * A process. `ns` null: one that has no ns/net link (it exited while we read, or is a zombie). `locked`: its
   * ns directory is root's and 0700, so any other user gets EACCES reading the link, as for procfs.
   */
  process(pid: number, ns: string | null, opts: { cgroup?: string; kthread?: boolean; locked?: boolean; comm?: string } = {}): void {
    const dir = join(this.proc, String(pid));
    mkdirSync(join(dir, 'ns'), { recursive: true });
    if (ns !== null) symlinkSync(ns, join(dir, 'ns', 'net'));
    if (opts.locked) chmodSync(join(dir, 'ns'), 0o700);
    const flags = opts.kthread ? KTHREAD_FLAGS : USER_FLAGS;
    writeFileSync(join(dir, 'stat'), `${pid} (${opts.comm ?? 'proc'}) S 1 ${pid} ${pid} 0 -1 ${flags} 0 0 0 0 0 0 0 0 20 0 1 0 100\n`);
    writeFileSync(join(dir, 'cgroup'), opts.cgroup ?? '0::/user.slice/user-1000.slice/session-2.scope\n');
  }
}
