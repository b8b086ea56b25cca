import { describe, expect, it } from 'vitest';
import type { HostPorts } from '../../../src/shared/direction';
import type { ClosedConnection, Socket } from '../../../src/shared/model';
import { parsePortNumber, parsePortRange, readHostPorts } from '../../../src/main/engine/hostPorts';
import { TrafficTracker } from '../../../src/main/engine/traffic';
import { makeClosed, makeProcess, makeSocket } from '../../helpers/sockets';

const PORTS: Record<string, HostPorts> = { '': { ephemeral: { min: 32768, max: 60999 }, unprivilegedStart: 1024, known: true } };
const listener = makeSocket({ id: 'tcp|0.0.0.0|8080|*|*', localAddress: '0.0.0.0', localPort: 8080 });
const served = (bytesIn: number | null, bytesOut: number | null): Socket =>
  makeSocket({
    id: 'tcp|127.0.0.1|8080|127.0.0.1|40000',
    localAddress: '127.0.0.1',
    localPort: 8080,
    remoteAddress: '127.0.0.1',
    remotePort: 40000,
    state: 'ESTABLISHED',
    listening: false,
    bytesIn,
    bytesOut,
  });

/** A tracker as the Monitor drives it: each poll gets the last poll's annotated sockets by id. */
class Driven {
  private readonly t = new TrafficTracker();
  private current: Map<string, Socket> | null = null;

  annotate(sockets: Socket[], closed: ClosedConnection[], at: number, ports: Record<string, HostPorts>): { sockets: Socket[]; closed: ClosedConnection[] } {
    const r = this.t.annotate(this.current, sockets, closed, at, ports);
    this.current = new Map(r.sockets.map((s) => [s.id, s]));
    return r;
  }
}

describe('TrafficTracker', () => {
  it('gives no rate on first sight, then bytes a second over the time between polls', () => {
    const t = new Driven();
    const first = t.annotate([listener, served(0, 100)], [], 1000, PORTS).sockets;
    expect(first[1]).toMatchObject({ rateIn: null, rateOut: null, direction: 'in', directionGuessed: false });
    expect(first[0]).toMatchObject({ rateIn: null, direction: null });
    const second = t.annotate([listener, served(5000, 1100)], [], 3000, PORTS).sockets;
    expect(second[1]).toMatchObject({ rateIn: 2500, rateOut: 500, bytesIn: 5000 });
  });

  it('keeps the object of a socket the source handed over unchanged, and makes a new one when the pace changes', () => {
    const t = new Driven();
    const raw = served(10, 10);
    t.annotate([listener, raw], [], 1000, PORTS);
    const idle = t.annotate([listener, raw], [], 2000, PORTS).sockets[1];
    expect(idle?.rateIn).toBe(0);
    expect(t.annotate([listener, raw], [], 3000, PORTS).sockets[1]).toBe(idle);
    const busy = t.annotate([listener, served(1010, 10)], [], 4000, PORTS).sockets[1];
    expect(busy).not.toBe(idle);
    expect(busy?.rateIn).toBe(1000);
  });

  it('has no rate where the kernel keeps no counters (UDP) or a counter went back (a new connection on the tuple)', () => {
    const t = new Driven();
    t.annotate([served(null, null)], [], 1000, PORTS);
    expect(t.annotate([served(null, null)], [], 2000, PORTS).sockets[0]?.rateIn).toBeNull();
    t.annotate([served(500, 500)], [], 3000, PORTS);
    expect(t.annotate([served(100, 600)], [], 4000, PORTS).sockets[0]).toMatchObject({ rateIn: null, rateOut: 100 });
  });

  it('keeps an established direction when the listener closes', () => {
    const t = new Driven();
    t.annotate([listener, served(0, 0)], [], 1000, PORTS);
    const after = t.annotate([served(0, 0)], [], 2000, PORTS).sockets[0];
    expect(after).toMatchObject({ direction: 'in', directionGuessed: false });
  });

  it('gives a closed connection the bytes no poll saw: all of them when it lived between polls', () => {
    const t = new Driven();
    t.annotate([served(1000, 2000)], [], 1000, PORTS);
    const closedRecord = (id: string, bytesIn: number, bytesOut: number): ClosedConnection =>
      makeClosed({ id, localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.1', remotePort: 40000, bytesIn, bytesOut, closedAt: 2000 });
    const { closed } = t.annotate([], [closedRecord(served(0, 0).id, 1500, 2000), closedRecord('tcp|short', 10_000, 300)], 2000, PORTS);
    expect(closed.map((c) => [c.unseenBytesIn, c.unseenBytesOut])).toEqual([
      [500, 0],
      [10_000, 300],
    ]);
  });
});

describe('TrafficTracker copies', () => {
  it('carry every field of the socket the source gave, its optional ones only where it has them', () => {
    const t = new Driven();
    const owner = makeProcess(4242, 'curl');
    const closedOne = {
      ...served(10, 20),
      noOwner: 'closed' as const,
      lastOwner: owner,
      incomplete: true as const,
      rttMs: 0.25,
      netns: 'ns1',
      container: 'web',
    };
    const [a, b] = t.annotate([closedOne, served(5, 6)], [], 1000, PORTS).sockets;
    expect(a).not.toBe(closedOne);
    expect(a).toMatchObject({ ...closedOne, rateIn: null, rateOut: null });
    expect(Object.keys(a ?? {}).sort()).toEqual([...Object.keys(closedOne), 'rateIn', 'rateOut', 'direction', 'directionGuessed'].sort());
    expect(Object.keys(b ?? {})).not.toContain('lastOwner');
    expect(Object.keys(b ?? {})).not.toContain('incomplete');
    // the source's own object is left as it was
    expect(closedOne).not.toHaveProperty('rateIn');
  });

  it('give a closed record its unseen bytes on a copy that keeps every other field', () => {
    // every field set, the optional one too
    const record = makeClosed({
      pid: 7,
      name: 'curl',
      uid: 1000,
      bytesIn: 900,
      bytesOut: 100,
      firstSeen: 500,
      ownerGuess: 'destination',
      closedAt: 2000,
      netns: 'ns1',
    });
    const [c] = new TrafficTracker().annotate(null, [], [record], 2000, PORTS).closed;
    expect(c).toStrictEqual({ ...record, unseenBytesIn: 900, unseenBytesOut: 100 });
    expect(record).not.toHaveProperty('unseenBytesIn');
  });
});

describe('host port sysctls', () => {
  it('parses what the kernel writes and refuses the rest', () => {
    expect(parsePortRange('32768\t60999\n')).toEqual({ min: 32768, max: 60999 });
    expect(parsePortRange('60999 32768')).toBeNull();
    expect(parsePortRange('1 99999')).toBeNull();
    expect(parsePortRange('x')).toBeNull();
    expect(parsePortNumber('1024\n')).toBe(1024);
    expect(parsePortNumber('0')).toBe(0);
    expect(parsePortNumber('-1')).toBeNull();
  });

  it('reads this machine, and falls back to the defaults, marked unknown, where it cannot', () => {
    const here = readHostPorts();
    expect(here.known).toBe(true);
    expect(here.ephemeral.min).toBeLessThanOrEqual(here.ephemeral.max);
    expect(readHostPorts('/nonexistent')).toMatchObject({ known: false, ephemeral: { min: 32768, max: 60999 } });
  });
});
