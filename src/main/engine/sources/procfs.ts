import { closeSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import type { Family, Protocol, Socket } from '../../../shared/model';
import { startWalker, WalkShare, type Walker } from '../fdWalker';
import type { OwnerIndex, OwnerStats } from '../owners';
import { UserDirectory } from '../users';
import { kernelRowId, SocketBuilder } from './build';
import { AddressDecoder, emptyTables, parseProcNet, parseProcNetPart, parseSockstat, RowCache, type ProcNetParse, type ProcNetRow } from './procNet';
import { TableStream } from './tableStream';
import type { SocketSource, SourceResult } from './source';

const TABLES: ReadonlyArray<{ file: string; protocol: Protocol; family: Family; required: boolean }> = [
  { file: 'tcp', protocol: 'tcp', family: 4, required: true },
  { file: 'tcp6', protocol: 'tcp', family: 6, required: false },
  { file: 'udp', protocol: 'udp', family: 4, required: true },
  { file: 'udp6', protocol: 'udp', family: 6, required: false },
  { file: 'udplite', protocol: 'udplite', family: 4, required: false },
  { file: 'udplite6', protocol: 'udplite', family: 6, required: false },
  // a raw socket's "port" is its IP protocol number, as in ss -w
  { file: 'raw', protocol: 'raw', family: 4, required: false },
  { file: 'raw6', protocol: 'raw', family: 6, required: false },
  // ICMP "ping" sockets (SOCK_DGRAM, IPPROTO_ICMP): sock_diag has no dump of them; sockstat no count
  { file: 'icmp', protocol: 'icmp', family: 4, required: false },
  { file: 'icmp6', protocol: 'icmp', family: 6, required: false },
];

/** How many bad lines a poll reports by name before it only counts them. */
const MAX_WARNINGS = 20;

let readBuffer = Buffer.allocUnsafe(1 << 20);

/**
 * Reads a /proc file in large chunks: the kernel formats /proc/net tables a page at a time per read call,
 * and readFileSync's small reads cost a third more at ten thousand sockets.
 */
export function readProcText(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let used = 0;
    for (;;) {
      if (used === readBuffer.length) {
        const bigger = Buffer.allocUnsafe(readBuffer.length * 2);
        readBuffer.copy(bigger, 0, 0, used);
        readBuffer = bigger;
      }
      const n = readSync(fd, readBuffer, used, readBuffer.length - used, null);
      if (n === 0) break;
      used += n;
    }
    return readBuffer.toString('latin1', 0, used);
  } finally {
    closeSync(fd);
  }
}

export interface ProcfsOptions {
  /** Where proc is mounted; tests point it at a recorded tree. */
  procRoot?: string;
  /** Every process is read whole again at least every N polls (default 30; Infinity: never). */
  fullRefreshEvery?: number;
  users?: UserDirectory;
  /**
   * Use helper threads (default true): the first poll shares its full descriptor walk with one (see fdWalker),
   * later polls have one read the tables while this thread parses them (see tableStream). Off for one-off
   * listings that must not start threads.
   */
  helperThreads?: boolean;
  /** Portwatch runs inside a pid namespace of its own (see inNestedPidNamespace): unseen owners are outside it. */
  nestedPidNamespace?: boolean;
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
  /** Last poll's parsed rows: unchanged lines are not parsed again. */
  private readonly rowCache = new RowCache();
  private readonly builder: SocketBuilder;
  private readonly owners: OwnerIndex;
  private polls = 0;
  /** Reads the tables on another thread in steady polls; null when helper threads are off. */
  private readonly stream: TableStream | null;
  /** How many tables the last poll had from the stream's helper thread (for tests and diagnostics). */
  tablesFromHelper = 0;

  constructor(opts: ProcfsOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.builder = new SocketBuilder({
      procRoot: this.procRoot,
      fullRefreshEvery: opts.fullRefreshEvery,
      users: opts.users,
      nestedPidNamespace: opts.nestedPidNamespace,
    });
    this.owners = this.builder.owners;
    this.stream = opts.helperThreads === false ? null : new TableStream(TABLES.map((t) => `${this.procRoot}/net/${t.file}`));
  }

  /** True when this machine has a readable /proc/net/tcp (opened, not read: reading has the kernel format it). */
  static available(procRoot = '/proc'): boolean {
    try {
      closeSync(openSync(`${procRoot}/net/tcp`, 'r'));
      return true;
    } catch {
      return false;
    }
  }

  /** What the last poll cost in descriptor reads (for the benchmark and diagnostics). */
  lastOwnerStats(): OwnerStats {
    return this.owners.stats;
  }

  /**
   * One poll. The first one reads every process's descriptors, sharing that walk with a helper thread (see
   * fdWalker); later ones are incremental, their tables read by another (see streamTables). Without helper
   * threads, listSync.
   */
  async list(): Promise<SourceResult> {
    if (!this.stream) return this.listSync();
    if (this.polls > 0) return this.build(this.streamTables(this.stream));
    const pids = this.owners.pidsByDescriptors();
    const share = new WalkShare(pids.length);
    const skip = this.emptyTables();
    const files = TABLES.filter((t) => !skip.has(t.file)).map((t) => `${this.procRoot}/net/${t.file}`);
    let walker: Walker;
    try {
      walker = startWalker(this.procRoot, pids, share, files);
    } catch {
      return this.listSync();
    }
    // judged below, once this thread has done its share
    walker.tables.catch(() => undefined);
    walker.walked.catch(() => undefined);
    for (let i = share.next(); i >= 0; i = share.next()) this.owners.read(pids[i] as number);
    let texts: Record<string, string | null> = {};
    try {
      texts = await walker.tables;
    } catch {
      // the walker died: this thread reads the tables itself
    }
    const tables = this.readTables(texts, skip);
    try {
      this.owners.prime(await walker.walked);
    } catch {
      // the walker died: whatever it had claimed is read as new processes by the catch-up below
    }
    this.owners.primed();
    return this.build(tables);
  }

  /** Ends the helper thread of steady polls (it never keeps the process alive either way). */
  close(): void {
    this.stream?.close();
  }

  /**
   * A steady poll's tables: read by the stream's helper thread, parsed here piece by piece as they arrive. The
   * helper starts with the first steady poll (a one-shot listing never needs it).
   */
  private streamTables(stream: TableStream): { rows: ProcNetRow[]; warnings: string[] } {
    const skip = this.emptyTables();
    const which = TABLES.flatMap((t, i) => (skip.has(t.file) ? [] : [i]));
    const parts = new Map<number, ProcNetParse & { nextLine: number }>();
    this.rowCache.rotate();
    const outcome = stream.read(which, (k, text) => {
      const t = TABLES[k] as (typeof TABLES)[number];
      let part = parts.get(k);
      if (!part) parts.set(k, (part = { rows: [], errors: [], nextLine: 1 }));
      part.nextLine = parseProcNetPart(text, part.nextLine, t.protocol, t.family, this.decoder, t.file, this.rowCache, part);
    });
    const parsed = new Map<string, ProcNetParse>();
    this.tablesFromHelper = outcome.filter(Boolean).length;
    which.forEach((k, w) => {
      const part = parts.get(k);
      // a table the helper could not deliver whole is read here, as without it
      if (outcome[w] && part) parsed.set((TABLES[k] as (typeof TABLES)[number]).file, part);
    });
    return this.readTables({}, skip, parsed, false);
  }

  listSync(): SourceResult {
    return this.build(this.readTables());
  }

  /**
   * Reads and parses the tables; `texts` holds ones already read (by the walker thread), by path, `done` ones
   * already parsed (by file name). `rotate`: start a new poll of the row cache (false when `done` used it).
   */
  private readTables(
    texts: Record<string, string | null> = {},
    skip = this.emptyTables(),
    done = new Map<string, ProcNetParse>(),
    rotate = true,
  ): { rows: ProcNetRow[]; warnings: string[] } {
    const warnings: string[] = [];
    let badLines = 0;
    const rows: ProcNetRow[] = [];
    if (rotate) this.rowCache.rotate();
    for (const t of TABLES) {
      if (skip.has(t.file)) continue;
      let parsed = done.get(t.file);
      if (!parsed) {
        const path = `${this.procRoot}/net/${t.file}`;
        let text: string;
        try {
          text = texts[path] ?? readProcText(path);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          // tcp6/udp6 are absent when IPv6 is disabled: nothing to list, nothing wrong.
          if (!t.required && code === 'ENOENT') continue;
          throw new Error(`cannot read ${this.procRoot}/net/${t.file}: ${(e as Error).message}`, { cause: e });
        }
        parsed = parseProcNet(text, t.protocol, t.family, this.decoder, t.file, this.rowCache);
      }
      for (const row of parsed.rows) rows.push(row);
      for (const err of parsed.errors) {
        badLines++;
        if (warnings.length < MAX_WARNINGS) warnings.push(`/proc/net/${err.file} line ${err.line}: ${err.reason}`);
      }
    }
    if (badLines > MAX_WARNINGS) warnings.push(`... ${badLines - MAX_WARNINGS} more bad lines skipped`);
    return { rows, warnings };
  }

  private build({ rows, warnings }: { rows: ProcNetRow[]; warnings: string[] }): SourceResult {
    this.polls++;
    return this.builder.build(rows, warnings);
  }

  private emptyTables(): Set<string> {
    try {
      let text = readProcText(`${this.procRoot}/net/sockstat`);
      try {
        text += readProcText(`${this.procRoot}/net/sockstat6`);
      } catch {
        // no IPv6: tcp6 and udp6 are absent too
      }
      return emptyTables(parseSockstat(text));
    } catch {
      return new Set();
    }
  }
}

/**
 * TCP sockets as the kernel lists them this instant, ids and states only, no owners: cheap enough to check
 * right after an action (closing a connection) whether it took.
 */
export function tcpNow(procRoot = '/proc'): Array<Pick<Socket, 'id' | 'state'>> {
  const decoder = new AddressDecoder(endianness() === 'LE');
  const out: Array<Pick<Socket, 'id' | 'state'>> = [];
  for (const t of TABLES.filter((x) => x.protocol === 'tcp')) {
    let text: string;
    try {
      text = readProcText(`${procRoot}/net/${t.file}`);
    } catch {
      continue;
    }
    for (const r of parseProcNet(text, t.protocol, t.family, decoder, t.file).rows) out.push({ id: kernelRowId(r), state: r.state });
  }
  return out;
}
