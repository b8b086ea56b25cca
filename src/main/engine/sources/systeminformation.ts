import si from 'systeminformation';
import type { Family, ProcessInfo, Protocol, Socket, SocketState } from '../../../shared/model';
import { TCP_STATES } from '../../../shared/model';
import { canonicalAddress } from '../address';
import { socketId, uniqueIds } from '../socketId';
import { runSiJob, type SiChildOptions } from './siChild';
import type { SocketSource, SourceResult } from './source';

/** One row of `si.networkConnections()`, typed as it really comes back (see normalizeSiConnections). */
export interface SiConnection {
  protocol?: unknown;
  localAddress?: unknown;
  localPort?: unknown;
  peerAddress?: unknown;
  peerPort?: unknown;
  state?: unknown;
  pid?: unknown;
  process?: unknown;
}

/** What the rows say about process names, before process details are looked up. */
export interface SiSocket extends Socket {
  /** The name systeminformation gave, possibly cut; used until process details are known. */
  siProcessName: string;
}

const STATE_ALIASES: Record<string, SocketState> = {
  ESTAB: 'ESTABLISHED',
  LISTENING: 'LISTEN',
  'SYN-SENT': 'SYN_SENT',
  'SYN-RECV': 'SYN_RECV',
  SYN_RECEIVED: 'SYN_RECV',
  'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2',
  FIN_WAIT_1: 'FIN_WAIT1',
  FIN_WAIT_2: 'FIN_WAIT2',
  'TIME-WAIT': 'TIME_WAIT',
  'CLOSE-WAIT': 'CLOSE_WAIT',
  'LAST-ACK': 'LAST_ACK',
  CLOSED: 'CLOSE',
  UNCONN: 'UNCONN',
};

/**
 * Linux netstat without -W gives "address:port" at most this many characters and cuts the address to fit:
 * an IPv6 endpoint that long may be cut even when what is left still parses.
 */
const LINUX_NETSTAT_ENDPOINT_WIDTH = 22;

function text(v: unknown): string {
  return typeof v === 'string' ? v.trim() : typeof v === 'number' && Number.isFinite(v) ? String(v) : '';
}

function parsePort(v: unknown): number | null | 'bad' {
  const t = text(v);
  if (t === '' || t === '*' || t === '0') return t === '0' ? 0 : null;
  if (!/^\d{1,5}$/.test(t)) return 'bad';
  const n = Number(t);
  return n <= 65535 ? n : 'bad';
}

/**
 * Normalises systeminformation 5.33's rows to the Portwatch model, working around its measured defects: ports
 * come as strings; pid is null, NaN or 0 when unknown; IPv6 keeps [brackets] on Windows and is cut by Linux
 * netstat (such rows are flagged `incomplete`, never completed by guessing); Windows' header line comes back as
 * a row; UDP rows have no state. Bad rows are skipped with a warning, never thrown.
 */
export function normalizeSiConnections(rows: readonly SiConnection[], platform: NodeJS.Platform): { sockets: SiSocket[]; warnings: string[] } {
  const sockets: SiSocket[] = [];
  const warnings: string[] = [];
  rows.forEach((row, index) => {
    const warn = (why: string): void => {
      if (warnings.length < 20) warnings.push(`systeminformation row ${index + 1}: ${why}`);
    };
    if (row === null || typeof row !== 'object') return warn('not an object');
    const proto = text(row.protocol).toLowerCase();
    // Windows `netstat -nao` prints a column header that systeminformation returns as a row.
    if (proto === 'proto') return;
    // macOS says tcp46/udp46 for a dual-stack socket: an IPv6 socket that also takes IPv4.
    const m = /^(tcp|udp)(4|6|46)?$/.exec(proto);
    if (!m) return warn(`unknown protocol "${proto}"`);
    const protocol = m[1] as Protocol;

    const localText = text(row.localAddress);
    const peerText = text(row.peerAddress);
    // macOS prints an unbound socket as *.*: no port yet, port 0 as the kernel would say.
    const localPort = text(row.localPort) === '*' ? 0 : parsePort(row.localPort);
    const peerPort = parsePort(row.peerPort);
    if (localPort === 'bad' || localPort === null) return warn(`bad local port "${text(row.localPort)}"`);
    if (peerPort === 'bad') return warn(`bad remote port "${text(row.peerPort)}"`);

    let incomplete = false;
    const familyHint: Family | null = m[2] === '4' ? 4 : m[2] ? 6 : null;
    const resolve = (t: string, port: number | null): { address: string; family: Family } | null => {
      if (t === '*' || t === '') return null;
      const c = canonicalAddress(t);
      const bare = t.replace(/^\[|\]$/g, '');
      const maybeCut = platform === 'linux' && bare.includes(':') && `${bare}:${port ?? '*'}`.length >= LINUX_NETSTAT_ENDPOINT_WIDTH;
      if (c === null || maybeCut) {
        if (bare.includes(':') || c === null) incomplete = true;
        return { address: bare, family: bare.includes(':') ? 6 : 4 };
      }
      return c;
    };
    const local = resolve(localText, localPort);
    const family: Family = local?.family ?? familyHint ?? (localText.includes(':') ? 6 : 4);
    const localAddress = local?.address ?? (family === 6 ? '::' : '0.0.0.0');
    let remote = resolve(peerText, peerPort);
    if (remote && (remote.address === '0.0.0.0' || remote.address === '::') && (peerPort === 0 || peerPort === null)) remote = null;

    const rawState = text(row.state).toUpperCase();
    let state: SocketState;
    if (protocol === 'udp') {
      state = remote ? 'ESTABLISHED' : 'UNCONN';
    } else if ((TCP_STATES as readonly string[]).includes(rawState)) {
      state = rawState as SocketState;
    } else if (STATE_ALIASES[rawState]) {
      state = STATE_ALIASES[rawState];
    } else {
      return warn(`unknown TCP state "${rawState}"`);
    }
    const listening = state === 'LISTEN' || state === 'UNCONN';
    if (listening) remote = null;

    const pidNum = typeof row.pid === 'number' ? row.pid : Number(text(row.pid));
    // Windows reports pid 0 ("System Idle Process") for TIME_WAIT: no owner.
    const pid = Number.isInteger(pidNum) && pidNum > 0 ? pidNum : null;
    const remotePort = remote ? peerPort : null;
    const s: SiSocket = {
      id: socketId(protocol, localAddress, localPort, remote?.address ?? null, remotePort, state, pid),
      protocol,
      family,
      localAddress,
      localPort,
      remoteAddress: remote?.address ?? null,
      remotePort,
      state,
      listening,
      pid,
      pids: pid === null ? [] : [pid],
      uid: null,
      user: null,
      ownerHidden: false,
      noOwner: null,
      interface: null,
      v6only: null,
      bytesIn: null,
      bytesOut: null,
      rttMs: null,
      netns: null,
      container: null,
      process: null,
      siProcessName: text(row.process),
    };
    if (incomplete) s.incomplete = true;
    sockets.push(s);
  });
  return { sockets: uniqueIds(sockets), warnings };
}

/** One row of `si.processes().list` (the fields used). */
export interface SiProcess {
  pid: number;
  parentPid?: number;
  name?: string;
  command?: string;
  params?: string;
  path?: string;
  user?: string;
  started?: string;
}

export function processFromSi(p: SiProcess): ProcessInfo {
  const started = p.started ? Date.parse(p.started.replace(' ', 'T')) : NaN;
  const command = p.command ?? '';
  const exe = p.path && command ? (command.startsWith('/') || /^[A-Za-z]:\\/.test(command) ? command : `${p.path}/${command}`) : null;
  return {
    pid: p.pid,
    ppid: typeof p.parentPid === 'number' && p.parentPid > 0 ? p.parentPid : null,
    name: p.name || command || String(p.pid),
    exe,
    cmdline: [command, ...(p.params ? p.params.split(' ').filter(Boolean) : [])].filter(Boolean),
    uid: null,
    user: p.user || null,
    startTime: Number.isFinite(started) ? started : null,
  };
}

export interface SystemInformationSourceOptions {
  networkConnections?: () => Promise<SiConnection[]>;
  processes?: () => Promise<{ list: SiProcess[] }>;
  platform?: NodeJS.Platform;
  /** Minimum time between two process-list refreshes (they cost seconds on Windows). */
  processRefreshMs?: number;
  now?: () => number;
  /**
   * Run systeminformation in a killable child process (see siChild). Without it, it runs in this process, and
   * a tool that hangs hangs the poll.
   */
  child?: SiChildOptions;
}

/** How long one systeminformation call may take before it and its tools are killed (the worker's stall
 * watchdog, at least 15 s, must not fire first). */
export const SI_TIMEOUT_MS = 10_000;

/**
 * The portable source (macOS, Windows, BSD, and Linux when /proc is unusable): `si.networkConnections()`
 * normalised, owners' details from `si.processes()`, refreshed only when an unknown pid appears.
 */
export class SystemInformationSource implements SocketSource {
  readonly name = 'systeminformation' as const;
  private readonly connections: () => Promise<SiConnection[]>;
  private readonly processList: () => Promise<{ list: SiProcess[] }>;
  private readonly platform: NodeJS.Platform;
  private readonly refreshMs: number;
  private readonly now: () => number;
  private byPid = new Map<number, ProcessInfo>();
  private lastProcessRefresh = -Infinity;

  constructor(opts: SystemInformationSourceOptions = {}) {
    const child = opts.child;
    this.connections =
      opts.networkConnections ??
      (child ? () => runSiJob('connections', child) as Promise<SiConnection[]> : () => si.networkConnections() as Promise<SiConnection[]>);
    this.processList =
      opts.processes ?? (child ? () => runSiJob('processes', child) as Promise<{ list: SiProcess[] }> : () => si.processes() as Promise<{ list: SiProcess[] }>);
    this.platform = opts.platform ?? process.platform;
    this.refreshMs = opts.processRefreshMs ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  async list(): Promise<SourceResult> {
    const rows = await this.connections();
    if (!Array.isArray(rows)) throw new Error('networkConnections() did not return a list');
    const { sockets, warnings } = normalizeSiConnections(rows, this.platform);
    const unknown = sockets.some((s) => s.pid !== null && !this.byPid.has(s.pid));
    if (unknown && this.now() - this.lastProcessRefresh >= this.refreshMs) {
      this.lastProcessRefresh = this.now();
      try {
        const { list } = await this.processList();
        this.byPid = new Map(list.map((p) => [p.pid, processFromSi(p)]));
      } catch (e) {
        warnings.push(`process details unavailable: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const out: Socket[] = sockets.map(({ siProcessName, ...s }) => {
      if (s.pid === null) return s;
      const info = this.byPid.get(s.pid) ?? null;
      const process: ProcessInfo = info ?? {
        pid: s.pid,
        ppid: null,
        name: siProcessName || String(s.pid),
        exe: null,
        cmdline: [],
        uid: null,
        user: null,
        startTime: null,
      };
      return { ...s, process, user: process.user };
    });
    return { sockets: out, warnings };
  }
}
