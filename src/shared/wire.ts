import {
  PROTOCOLS,
  SOCKET_STATES,
  type ClosedConnection,
  type Delta,
  type NoOwner,
  type ProcessInfo,
  type Protocol,
  socketIdBase,
  type Snapshot,
  type Socket,
  type SocketState,
  type SourceName,
} from './model';

/*
 * The WebSocket form of snapshots and deltas. A socket in the model carries its whole process, which made a
 * snapshot about 570 bytes per socket (5.6 MB at 10,000) and let one user's 36,000 TIME_WAIT sockets push every
 * client past its backlog. On the wire each message holds a table of the processes (and user names) its
 * sockets refer to, each once, and every socket is a positional row:
 *   - protocol and state are indexes into PROTOCOLS and SOCKET_STATES, booleans are 0 and 1;
 *   - the id is sent as what it adds to its four-tuple (usually nothing: a connection's id is its tuple);
 *   - `pids` is left out (0) when it is just [pid] (or [] without a pid);
 *   - fields rarely set come last, and trailing nulls are dropped.
 * Each message stands alone (no table is kept between messages), so a client that resynchronises, or joins
 * late, needs nothing but the message in hand. The decoder rebuilds sockets equal to the engine's, sharing one
 * ProcessInfo object per process. It is the one place that knows the layout: server and page both use it.
 */

/** The layout's version: a page built for another layout refuses the message rather than misreading it. */
export const WIRE_VERSION = 1;

/** One socket, positionally (see ROW); trailing nulls are dropped. */
export type WireRow = unknown[];

interface WireTables {
  /** The processes the rows refer to (by index), each once. */
  processes: ProcessInfo[];
  /** The user names the rows refer to (by index), each once. */
  users: string[];
}

export interface WireSnapshot extends WireTables {
  v: typeof WIRE_VERSION;
  seq: number;
  takenAt: number;
  source: SourceName;
  sockets: WireRow[];
}

export interface WireDelta extends WireTables {
  v: typeof WIRE_VERSION;
  seq: number;
  takenAt: number;
  added: WireRow[];
  changed: WireRow[];
  removed: string[];
  closed: ClosedConnection[];
}

/** Row positions. */
const enum F {
  Id,
  Protocol,
  Family,
  LocalAddress,
  LocalPort,
  RemoteAddress,
  RemotePort,
  State,
  Listening,
  Pid,
  Pids,
  Uid,
  User,
  Process,
  OwnerHidden,
  NoOwner,
  BytesIn,
  BytesOut,
  RttMs,
  RateIn,
  RateOut,
  /** 0 in, 1 out; +2 when guessed; -1 computed as none (a listener); absent (null) not computed. */
  Direction,
  Interface,
  V6only,
  Netns,
  Container,
  Incomplete,
  LastOwner,
}

const PROTOCOL_INDEX = new Map<Protocol, number>(PROTOCOLS.map((p, i) => [p, i]));
const STATE_INDEX = new Map<SocketState, number>(SOCKET_STATES.map((s, i) => [s, i]));
const NO_OWNER: readonly NoOwner[] = ['closed', 'hidden', 'pid-namespace', 'not-found'];
const NO_OWNER_INDEX = new Map<NoOwner, number>(NO_OWNER.map((n, i) => [n, i]));

/** Interns the processes and users of one message. */
class TableBuilder implements WireTables {
  readonly processes: ProcessInfo[] = [];
  readonly users: string[] = [];
  private readonly processIndex = new Map<ProcessInfo, number>();
  private readonly processKey = new Map<string, number>();
  private readonly userIndex = new Map<string, number>();

  process(p: ProcessInfo): number {
    // sources hand out one object per process, so the identity check answers nearly always
    const byRef = this.processIndex.get(p);
    if (byRef !== undefined) return byRef;
    // copies (after a worker's structured clone) are the same process only when every field agrees
    const key = JSON.stringify(p);
    let i = this.processKey.get(key);
    if (i === undefined) {
      i = this.processes.push(p) - 1;
      this.processKey.set(key, i);
    }
    this.processIndex.set(p, i);
    return i;
  }

  user(name: string): number {
    let i = this.userIndex.get(name);
    if (i === undefined) {
      i = this.users.push(name) - 1;
      this.userIndex.set(name, i);
    }
    return i;
  }

  row(s: Socket): WireRow {
    const base = socketIdBase(s);
    const soloPids = s.pid === null ? s.pids.length === 0 : s.pids.length === 1 && s.pids[0] === s.pid;
    const row: unknown[] = [
      s.id.startsWith(base) ? s.id.slice(base.length) : `=${s.id}`,
      PROTOCOL_INDEX.get(s.protocol) ?? s.protocol,
      s.family,
      s.localAddress,
      s.localPort,
      s.remoteAddress,
      s.remotePort,
      STATE_INDEX.get(s.state) ?? s.state,
      s.listening ? 1 : 0,
      s.pid,
      soloPids ? 0 : s.pids,
      s.uid,
      s.user === null ? null : this.user(s.user),
      s.process === null ? null : this.process(s.process),
      s.ownerHidden ? 1 : 0,
      s.noOwner === null ? null : NO_OWNER_INDEX.get(s.noOwner),
      s.bytesIn,
      s.bytesOut,
      s.rttMs,
      s.rateIn ?? null,
      s.rateOut ?? null,
      directionCode(s),
      s.interface,
      s.v6only === null ? null : s.v6only ? 1 : 0,
      s.netns,
      s.container,
      s.incomplete ? 1 : null,
      s.lastOwner === undefined ? null : this.process(s.lastOwner),
    ];
    let n = row.length;
    while (n > 0 && row[n - 1] === null) n--;
    row.length = n;
    return row;
  }
}

export function encodeSnapshot(s: Snapshot): WireSnapshot {
  const t = new TableBuilder();
  const sockets = s.sockets.map((x) => t.row(x));
  return { v: WIRE_VERSION, seq: s.seq, takenAt: s.takenAt, source: s.source, processes: t.processes, users: t.users, sockets };
}

export function encodeDelta(d: Delta): WireDelta {
  const kept = keptWire.get(d);
  if (kept) return kept;
  const t = new TableBuilder();
  const added = d.added.map((x) => t.row(x));
  const changed = d.changed.map((x) => t.row(x));
  return { v: WIRE_VERSION, seq: d.seq, takenAt: d.takenAt, processes: t.processes, users: t.users, added, changed, removed: d.removed, closed: d.closed };
}

/** A message that does not follow the layout: the page drops it and asks for the state again. */
export class WireError extends Error {}

function fail(what: string): never {
  throw new WireError(`malformed message from Portwatch: ${what}`);
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(what);
  return v;
}
function numOrNull(v: unknown, what: string): number | null {
  return v === null || v === undefined ? null : num(v, what);
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') fail(what);
  return v;
}
function strOrNull(v: unknown, what: string): string | null {
  return v === null || v === undefined ? null : str(v, what);
}
function array(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail(what);
  return v;
}
function indexInto<T>(table: readonly T[], v: unknown, what: string): T {
  const i = num(v, what);
  const x = table[i];
  if (x === undefined) fail(`${what} ${i} is not in its table`);
  return x;
}

function tablesOf(w: Record<string, unknown>): WireTables {
  const processes = array(w.processes, 'processes') as ProcessInfo[];
  for (const p of processes) if (typeof p !== 'object' || p === null || typeof p.pid !== 'number') fail('a process');
  const users = array(w.users, 'users').map((u) => str(u, 'a user'));
  return { processes, users };
}

/** The Direction position: null when no poll loop computed rates and direction for this socket. */
function directionCode(s: Socket): number | null {
  if (s.direction === undefined) return null;
  if (s.direction === null) return -1;
  return (s.direction === 'in' ? 0 : 1) + (s.directionGuessed ? 2 : 0);
}

function decodeRow(r: unknown, t: WireTables): Socket {
  const row = array(r, 'a socket');
  const protocol = indexInto(PROTOCOLS, row[F.Protocol], 'protocol');
  const localAddress = str(row[F.LocalAddress], 'localAddress');
  const localPort = num(row[F.LocalPort], 'localPort');
  const remoteAddress = strOrNull(row[F.RemoteAddress], 'remoteAddress');
  const remotePort = numOrNull(row[F.RemotePort], 'remotePort');
  const netns = strOrNull(row[F.Netns], 'netns');
  const idPart = str(row[F.Id], 'id');
  const id = idPart.startsWith('=') ? idPart.slice(1) : socketIdBase({ netns, protocol, localAddress, localPort, remoteAddress, remotePort }) + idPart;
  const pid = numOrNull(row[F.Pid], 'pid');
  const pids = row[F.Pids] === 0 || row[F.Pids] === undefined ? (pid === null ? [] : [pid]) : array(row[F.Pids], 'pids').map((p) => num(p, 'a pid'));
  const family = num(row[F.Family], 'family');
  if (family !== 4 && family !== 6) fail('family');
  const v6 = row[F.V6only];
  const s: Socket = {
    id,
    protocol,
    family,
    localAddress,
    localPort,
    remoteAddress,
    remotePort,
    state: indexInto(SOCKET_STATES, row[F.State], 'state'),
    listening: row[F.Listening] === 1,
    pid,
    pids,
    uid: numOrNull(row[F.Uid], 'uid'),
    user: row[F.User] === null || row[F.User] === undefined ? null : indexInto(t.users, row[F.User], 'user'),
    ownerHidden: row[F.OwnerHidden] === 1,
    noOwner: row[F.NoOwner] === null || row[F.NoOwner] === undefined ? null : indexInto(NO_OWNER, row[F.NoOwner], 'noOwner'),
    interface: strOrNull(row[F.Interface], 'interface'),
    v6only: v6 === null || v6 === undefined ? null : v6 === 1,
    bytesIn: numOrNull(row[F.BytesIn], 'bytesIn'),
    bytesOut: numOrNull(row[F.BytesOut], 'bytesOut'),
    rttMs: numOrNull(row[F.RttMs], 'rttMs'),
    netns,
    container: strOrNull(row[F.Container], 'container'),
    process: row[F.Process] === null || row[F.Process] === undefined ? null : indexInto(t.processes, row[F.Process], 'process'),
  };
  if (row[F.Incomplete] === 1) s.incomplete = true;
  if (row[F.LastOwner] !== null && row[F.LastOwner] !== undefined) s.lastOwner = indexInto(t.processes, row[F.LastOwner], 'lastOwner');
  const dir = row[F.Direction];
  if (dir !== null && dir !== undefined) {
    // computed by a poll loop: rates and direction are all present, null where there is none
    const code = num(dir, 'direction');
    if (!Number.isInteger(code) || code < -1 || code > 3) fail('direction');
    s.rateIn = numOrNull(row[F.RateIn], 'rateIn');
    s.rateOut = numOrNull(row[F.RateOut], 'rateOut');
    s.direction = code < 0 ? null : code % 2 === 0 ? 'in' : 'out';
    s.directionGuessed = code >= 2;
  }
  return s;
}

function header(w: unknown): Record<string, unknown> {
  if (typeof w !== 'object' || w === null) fail('not an object');
  const o = w as Record<string, unknown>;
  if (o.v !== WIRE_VERSION) fail(`layout version ${String(o.v)}, this page reads ${WIRE_VERSION}: reload the page`);
  return o;
}

/** The snapshot a WireSnapshot carries. Throws WireError on anything that does not follow the layout. */
export function decodeSnapshot(w: unknown): Snapshot {
  const o = header(w);
  const t = tablesOf(o);
  return {
    seq: num(o.seq, 'seq'),
    takenAt: num(o.takenAt, 'takenAt'),
    source: str(o.source, 'source') as SourceName,
    sockets: array(o.sockets, 'sockets').map((r) => decodeRow(r, t)),
  };
}

/** Wire forms kept for the deltas decoded from them (decodeDeltaKeeping), which encodeDelta hands out again. */
const keptWire = new WeakMap<Delta, WireDelta>();

/**
 * decodeDelta, keeping `w` as the delta's wire form: for the monitor host, whose worker encoded the delta, so that
 * the server sends on what came (every row checked here) instead of encoding the same delta a second time.
 */
export function decodeDeltaKeeping(w: unknown): Delta {
  const d = decodeDelta(w);
  keptWire.set(d, w as WireDelta);
  return d;
}

/** The delta a WireDelta carries. Throws WireError on anything that does not follow the layout. */
export function decodeDelta(w: unknown): Delta {
  const o = header(w);
  const t = tablesOf(o);
  return {
    seq: num(o.seq, 'seq'),
    takenAt: num(o.takenAt, 'takenAt'),
    added: array(o.added, 'added').map((r) => decodeRow(r, t)),
    changed: array(o.changed, 'changed').map((r) => decodeRow(r, t)),
    removed: array(o.removed, 'removed').map((x) => str(x, 'a removed id')),
    closed: array(o.closed, 'closed') as ClosedConnection[],
  };
}
