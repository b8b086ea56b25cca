import { directionOf, IANA_EPHEMERAL, ListenerIndex, LINUX_DEFAULT_PORTS, type DirectionVerdict, type HostPorts } from '../../shared/direction';
import type { ClosedConnection, Direction, Socket } from '../../shared/model';

/** The port sysctls to use where a source gives none: the host's on Linux, IANA's range elsewhere (a guess). */
export const NON_LINUX_PORTS: HostPorts = { ephemeral: IANA_EPHEMERAL, unprivilegedStart: 1024, known: false };

/**
 * The source's object an annotated socket was made from, under a symbol: neither JSON nor a worker's structured
 * clone carries it, so it never leaves the poll loop.
 */
const RAW = Symbol('raw');
type Annotated = Socket & { [RAW]?: Socket };

/** Socket's fields that every copy names (its optional ones that a source may set are copied when present). */
type AllSocketFields = Omit<Required<Socket>, 'lastOwner' | 'incomplete'>;

/**
 * A copy of the source's socket with the poll's rates and direction, written out field by field: V8 makes a
 * spread that then adds properties (`{ ...s, rateIn }` of an object without them) take its slow path, about
 * 15 to 20 µs a socket against 0.1 µs for this literal, and that was a fifth of the recorder's poll under churn.
 * The type makes a field added to Socket a compile error here until it is copied.
 */
function annotatedFrom(s: Socket, rateIn: number | null, rateOut: number | null, direction: Direction | null, guessed: boolean): Socket {
  const a: AllSocketFields & Pick<Socket, 'lastOwner' | 'incomplete'> & { [RAW]: Socket } = {
    id: s.id,
    protocol: s.protocol,
    family: s.family,
    localAddress: s.localAddress,
    localPort: s.localPort,
    remoteAddress: s.remoteAddress,
    remotePort: s.remotePort,
    state: s.state,
    listening: s.listening,
    pid: s.pid,
    pids: s.pids,
    uid: s.uid,
    user: s.user,
    ownerHidden: s.ownerHidden,
    noOwner: s.noOwner,
    interface: s.interface,
    v6only: s.v6only,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    rttMs: s.rttMs,
    rateIn,
    rateOut,
    direction,
    directionGuessed: guessed,
    netns: s.netns,
    container: s.container,
    process: s.process,
    [RAW]: s,
  };
  if (s.lastOwner !== undefined) a.lastOwner = s.lastOwner;
  if (s.incomplete !== undefined) a.incomplete = s.incomplete;
  return a;
}

/** A closed record with the bytes no poll saw, field by field for the same reason as annotatedFrom. */
function withUnseen(c: ClosedConnection, unseenBytesIn: number | null, unseenBytesOut: number | null): ClosedConnection {
  const out: Omit<Required<ClosedConnection>, 'ownerGuess'> & Pick<ClosedConnection, 'ownerGuess'> = {
    id: c.id,
    protocol: c.protocol,
    family: c.family,
    localAddress: c.localAddress,
    localPort: c.localPort,
    remoteAddress: c.remoteAddress,
    remotePort: c.remotePort,
    state: c.state,
    pid: c.pid,
    name: c.name,
    uid: c.uid,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    unseenBytesIn,
    unseenBytesOut,
    firstSeen: c.firstSeen,
    closedAt: c.closedAt,
    netns: c.netns,
  };
  if (c.ownerGuess !== undefined) out.ownerGuess = c.ownerGuess;
  return out;
}

function rate(now: number | null, before: number | null, ms: number): number | null {
  if (now === null || before === null || ms <= 0) return null;
  const d = now - before;
  // a counter that went back is another connection on the same four-tuple: no rate for this poll
  return d >= 0 ? Math.round((d * 1000) / ms) : null;
}

function unseen(final: number | null, seen: number | null | undefined): number | null {
  if (final === null) return null;
  if (seen === undefined) return final;
  if (seen === null) return null;
  return final >= seen ? final - seen : final;
}

/**
 * Per poll, what a socket alone does not say: bytes a second in and out since the poll before (from the kernel's
 * counters), and which way the connection goes. A direction once established (not guessed) stays: an accepted
 * connection is still `in` after its listener closes. Sockets the source handed over unchanged keep the object
 * they had, so the diff's identity check still answers for most of them.
 */
export class TrafficTracker {
  private lastAt = 0;

  /**
   * The sockets with rateIn, rateOut, direction and directionGuessed set (new objects where those changed), and
   * the closed records with the bytes no poll saw. `before`: the last poll's annotated sockets by id (the
   * Monitor's current map), or null at the first poll.
   */
  annotate(
    before: ReadonlyMap<string, Socket> | null,
    sockets: readonly Socket[],
    closed: readonly ClosedConnection[],
    takenAt: number,
    ports: Readonly<Record<string, HostPorts>>,
  ): { sockets: Socket[]; closed: ClosedConnection[] } {
    const ms = takenAt - this.lastAt;
    const outClosed = closed.map((c) => {
      const last = before?.get(c.id);
      return withUnseen(c, unseen(c.bytesIn, last?.bytesIn), unseen(c.bytesOut, last?.bytesOut));
    });
    const listeners = new ListenerIndex(sockets);
    const out: Socket[] = [];
    const own = ports[''] ?? LINUX_DEFAULT_PORTS;
    for (const s of sockets) {
      // the fast path, most sockets of a steady poll: the source handed over last poll's object (nothing moved,
      // its counters neither), and its direction was established: last poll's annotated object stands
      const prev = before?.get(s.id);
      const kept = prev !== undefined && (prev as Annotated)[RAW] === s ? prev : undefined;
      if (
        kept !== undefined &&
        kept.rateIn === (s.bytesIn === null ? null : 0) &&
        kept.rateOut === (s.bytesOut === null ? null : 0) &&
        (kept.direction === null || !kept.directionGuessed)
      ) {
        out.push(kept);
        continue;
      }
      let rateIn: number | null = null;
      let rateOut: number | null = null;
      let verdict: DirectionVerdict | null;
      if (prev === undefined) {
        verdict = directionOf(s, listeners, (s.netns === null ? own : ports[s.netns]) ?? own);
      } else {
        rateIn = rate(s.bytesIn, prev.bytesIn, ms);
        rateOut = rate(s.bytesOut, prev.bytesOut, ms);
        // an established direction stays (an accepted connection is still `in` after its listener closed)
        verdict =
          prev.direction != null && !prev.directionGuessed
            ? { direction: prev.direction, guessed: false }
            : directionOf(s, listeners, (s.netns === null ? own : ports[s.netns]) ?? own);
      }
      const direction = verdict?.direction ?? null;
      const guessed = verdict?.guessed ?? false;
      const annotated =
        prev !== undefined &&
        kept === prev &&
        prev.rateIn === rateIn &&
        prev.rateOut === rateOut &&
        prev.direction === direction &&
        prev.directionGuessed === guessed
          ? prev
          : annotatedFrom(s, rateIn, rateOut, direction, guessed);
      out.push(annotated);
    }
    this.lastAt = takenAt;
    return { sockets: out, closed: outClosed };
  }
}
