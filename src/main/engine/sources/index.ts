import type { SourceName } from '../../../shared/model';
import { inNestedPidNamespace } from '../owners';
import type { SiLauncher } from '../workerProtocol';
import { startWalk, type WalkStart } from './procfsWalk';
import { NetlinkSource, type NetlinkOptions } from './netlink';
import { ProcfsSource } from './procfs';
import type { SocketSource, SourceResult } from './source';

export type SourceChoice = SourceName | 'auto';
export const SOURCE_CHOICES: readonly SourceChoice[] = ['auto', 'netlink', 'procfs', 'systeminformation'];

export interface SourceOptions {
  /**
   * systeminformation then runs in a killable helper: a script that answers SI_CHILD_FLAG (the si-child bundle,
   * bundlePath('si-child')), started as this process's child, or a launcher that starts it (the monitor host's,
   * under Electron).
   */
  siHelper?: string | SiLauncher;
  /** Only listeners are wanted (`list --listen`): sources that can, list only those. */
  listenersOnly?: boolean;
  /** A one-off listing: no socket for destroy events. */
  oneShot?: boolean;
  /**
   * TCP's byte counters and RTT are wanted (default true). A table that prints none of them passes false:
   * netlink then spares the kernel a socket lock per connection; sockets carry null for them.
   */
  counters?: boolean;
  /** Only Portwatch's own network namespace, also as root (audit: a baseline describes one host's ports). */
  ownNamespace?: boolean;
}

/** A source that says, in every poll's warnings, why it is not the one asked for. */
class Noted implements SocketSource {
  constructor(
    private readonly inner: SocketSource,
    private readonly note: string,
  ) {}
  get name(): SourceName {
    return this.inner.name;
  }
  async list(): Promise<SourceResult> {
    const r = await this.inner.list();
    return { ...r, warnings: [this.note, ...r.warnings] };
  }
  close(): void {
    this.inner.close?.();
  }
}

/**
 * systeminformation, loaded when first polled: the package (and the source's code) is a large part of what a
 * process would otherwise load at start, and most runs never choose it (the CLI's list bundle leaves the
 * package out: scripts/build-cli.mjs).
 */
class LazySystemInformation implements SocketSource {
  readonly name = 'systeminformation' as const;
  private inner: Promise<SocketSource> | null = null;
  constructor(private readonly siHelper: string | SiLauncher | undefined) {}
  async list(): Promise<SourceResult> {
    const helper = this.siHelper;
    this.inner ??= import('./systeminformation').then(
      ({ SI_TIMEOUT_MS: timeoutMs, SystemInformationSource }) =>
        new SystemInformationSource(
          typeof helper === 'string' ? { child: { helperPath: helper, timeoutMs } } : helper ? { child: { launch: helper, timeoutMs } } : {},
        ),
    );
    return (await this.inner).list();
  }
}

/**
 * On Linux netlink (sock_diag), or procfs when netlink cannot serve (koffi missing, netlink refused by seccomp,
 * an old kernel: the status says so); systeminformation everywhere else. With systeminformation, `siHelper`
 * runs it in a child process that is killed, with every tool it started, when it hangs.
 */
export function createSource(choice: SourceChoice = 'auto', opts: SourceOptions = {}): SocketSource {
  // a one-off listing of every socket walks every descriptor, with a helper thread when there are many: started
  // first thing, it is up when the walk begins (checking that netlink works, and the dump, take longer than its boot)
  const early = opts.oneShot && !opts.listenersOnly && process.platform === 'linux' && (choice === 'auto' || choice === 'netlink');
  const held: { walk: WalkStart | null } = { walk: early ? startWalk() : null };
  try {
    return chooseSource(choice, opts, held);
  } finally {
    // not taken by a netlink source: not needed
    held.walk?.helper?.dispose();
  }
}

/** createSource's choice; a netlink source takes `held`'s walk. */
function chooseSource(choice: SourceChoice, opts: SourceOptions, held: { walk: WalkStart | null }): SocketSource {
  const si = (): SocketSource => new LazySystemInformation(opts.siHelper);
  const linux = (): { nestedPidNamespace: boolean } => ({ nestedPidNamespace: inNestedPidNamespace() });
  const netlink = (): NetlinkSource => {
    const o: NetlinkOptions = {
      ...linux(),
      ...(opts.listenersOnly ? { listenersOnly: true } : {}),
      ...(opts.oneShot ? { oneShot: true } : {}),
      ...(opts.counters === false ? { counters: false } : {}),
      ...(opts.ownNamespace ? { namespaces: false } : {}),
      walkStart: held.walk,
    };
    const source = new NetlinkSource(o);
    held.walk = null;
    return source;
  };
  if (choice === 'netlink') {
    const why = NetlinkSource.unavailable();
    if (why !== null) throw new Error(`the netlink source cannot run here: ${why}`);
    return netlink();
  }
  if (choice === 'procfs') return new ProcfsSource(linux());
  if (choice === 'systeminformation') return si();
  if (process.platform === 'linux') {
    const why = NetlinkSource.unavailable();
    if (why === null) return netlink();
    if (ProcfsSource.available())
      return new Noted(new ProcfsSource(linux()), `netlink unavailable (${why}): reading /proc/net instead, without byte counters or bound interfaces`);
  }
  return si();
}
