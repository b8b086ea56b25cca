import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import type { Family, Protocol, Socket } from '../../../shared/model';
import { OwnerIndex } from '../owners';
import { ProcessTable } from '../processes';
import { socketId, uniqueIds } from '../socketId';
import { UserDirectory } from '../users';
import { AddressDecoder, parseProcNet, type ProcNetRow } from './procNet';
import type { SocketSource, SourceResult } from './source';

const TABLES: ReadonlyArray<{ file: string; protocol: Protocol; family: Family; required: boolean }> = [
  { file: 'tcp', protocol: 'tcp', family: 4, required: true },
  { file: 'tcp6', protocol: 'tcp', family: 6, required: false },
  { file: 'udp', protocol: 'udp', family: 4, required: true },
  { file: 'udp6', protocol: 'udp', family: 6, required: false },
];

/** How many bad lines a poll reports by name before it only counts them. */
const MAX_WARNINGS = 20;

export interface ProcfsOptions {
  /** Where proc is mounted; tests point it at a recorded tree. */
  procRoot?: string;
  /** Full owner re-walk every N polls. */
  fullRefreshEvery?: number;
  users?: UserDirectory;
}

/**
 * The Linux source: the kernel's socket tables from /proc/net, owners from /proc/<pid>/fd, details from
 * /proc/<pid>. Synchronous reads on purpose: it runs in the monitor's worker thread, where blocking is free and
 * the async fs overhead at ten thousand descriptors is not.
 */
export class ProcfsSource implements SocketSource {
  readonly name = 'procfs' as const;
  private readonly procRoot: string;
  private readonly decoder = new AddressDecoder(endianness() === 'LE');
  private readonly owners: OwnerIndex;
  private readonly users: UserDirectory;
  private readonly processes: ProcessTable;

  constructor(opts: ProcfsOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.owners = new OwnerIndex(this.procRoot, opts.fullRefreshEvery ?? 10);
    this.users = opts.users ?? new UserDirectory();
    this.processes = new ProcessTable(this.users, this.procRoot);
  }

  /** True when this machine has a readable /proc/net/tcp. */
  static available(procRoot = '/proc'): boolean {
    try {
      readFileSync(`${procRoot}/net/tcp`, 'latin1');
      return true;
    } catch {
      return false;
    }
  }

  list(): Promise<SourceResult> {
    try {
      return Promise.resolve(this.listSync());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  listSync(): SourceResult {
    const warnings: string[] = [];
    let badLines = 0;
    const rows: ProcNetRow[] = [];
    for (const t of TABLES) {
      let text: string;
      try {
        text = readFileSync(`${this.procRoot}/net/${t.file}`, 'latin1');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // tcp6/udp6 are absent when IPv6 is disabled: nothing to list, nothing wrong.
        if (!t.required && code === 'ENOENT') continue;
        throw new Error(`cannot read ${this.procRoot}/net/${t.file}: ${(e as Error).message}`, { cause: e });
      }
      const parsed = parseProcNet(text, t.protocol, t.family, this.decoder, t.file);
      for (const row of parsed.rows) rows.push(row);
      for (const err of parsed.errors) {
        badLines++;
        if (warnings.length < MAX_WARNINGS) warnings.push(`/proc/net/${err.file} line ${err.line}: ${err.reason}`);
      }
    }
    if (badLines > MAX_WARNINGS) warnings.push(`... ${badLines - MAX_WARNINGS} more bad lines skipped`);

    this.users.refresh();
    const owners = this.owners.resolve(rows.map((r) => r.inode));
    this.processes.begin();
    const primaryBySet = new Map<string, number>();
    const sockets: Socket[] = [];
    for (const r of rows) {
      const pids = owners.get(r.inode) ?? [];
      let pid: number | null = null;
      if (pids.length === 1) pid = pids[0] as number;
      else if (pids.length > 1) {
        const key = pids.join(',');
        pid = primaryBySet.get(key) ?? this.primaryOwner(pids);
        primaryBySet.set(key, pid);
      }
      const process = pid === null ? null : this.processes.get(pid);
      sockets.push({
        id: socketId(r.protocol, r.localAddress, r.localPort, r.remoteAddress, r.remotePort, r.state, r.inode),
        protocol: r.protocol,
        family: r.family,
        localAddress: r.localAddress,
        localPort: r.localPort,
        remoteAddress: r.remoteAddress,
        remotePort: r.remotePort,
        state: r.state,
        listening: r.state === 'LISTEN' || r.state === 'UNCONN',
        pid,
        pids,
        uid: r.uid,
        user: this.users.name(r.uid),
        ownerHidden: r.inode !== 0 && pids.length === 0,
        process,
      });
    }
    this.processes.end();
    return { sockets: uniqueIds(sockets), warnings };
  }

  /**
   * The ancestor among a socket's owners (nginx's master among its workers): the owner none of whose ancestors
   * is also an owner. Unrelated owners (a descriptor passed over a unix socket): the lowest pid.
   */
  private primaryOwner(pids: number[]): number {
    const owners = new Set(pids);
    for (const pid of pids) {
      let cur = this.processes.ppid(pid);
      let depth = 0;
      let hasOwnerAncestor = false;
      while (cur !== null && cur > 0 && depth++ < 64) {
        if (owners.has(cur)) {
          hasOwnerAncestor = true;
          break;
        }
        cur = this.processes.ppid(cur);
      }
      if (!hasOwnerAncestor) return pid;
    }
    return pids[0] as number;
  }
}
