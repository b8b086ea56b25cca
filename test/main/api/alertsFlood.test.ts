import { describe, expect, it } from 'vitest';
import { Alerts, type AlertOptions } from '../../../src/main/api/alerts';
import type { Alert } from '../../../src/shared/api';
import type { Delta, Socket } from '../../../src/shared/model';
import { makeProcess, makeSocket } from '../../helpers/sockets';

/** Issue 12, item 5: one user's flood of listeners must not silence, nor push out of the list, another's. */

const NOBODY = 65534;

/** An unconnected UDP socket as the procfs source lists it: UNCONN, listening, owned by a process of `uid`. */
function udp(port: number, uid: number, user: string, pid: number, address = '127.0.0.1'): Socket {
  return makeSocket({
    id: `udp|${address}|${port}|*|*|${900_000 + port}`,
    protocol: 'udp',
    localAddress: address,
    localPort: port,
    state: 'UNCONN',
    listening: true,
    pid,
    pids: [pid],
    uid,
    user,
    process: makeProcess(pid, 'python3', { uid, user, startTime: 5_000 }),
  });
}

/** A TCP listener as the procfs source lists it. */
function tcp(port: number, uid: number | null, user: string | null, pid: number | null, address = '0.0.0.0', name = 'nc'): Socket {
  return makeSocket({
    id: `tcp|${address}|${port}|*|*|${800_000 + port}`,
    protocol: 'tcp',
    localAddress: address,
    localPort: port,
    state: 'LISTEN',
    listening: true,
    pid,
    pids: pid === null ? [] : [pid],
    uid,
    user,
    ownerHidden: pid === null,
    noOwner: pid === null ? 'hidden' : null,
    process: pid === null ? null : makeProcess(pid, name, { uid, user, startTime: 6_000 }),
  });
}

let seq = 1;
const delta = (added: Socket[]): Delta => ({ seq: ++seq, takenAt: seq, added, removed: [], changed: [], closed: [] });

function make(over: Partial<AlertOptions> = {}) {
  const clock = { t: 1_000_000 };
  const got: Alert[] = [];
  const alerts = new Alerts({ rules: () => [], onAlert: (a) => got.push(a), now: () => clock.t, ...over });
  return { alerts, got, clock, notified: () => got.filter((a) => a.notify) };
}

describe('Alerts under a flood (issue 12, item 5)', () => {
  it('300 loopback UDP decoys from nobody, a real root listener on 0.0.0.0, 300 more: the real one is notified and kept', () => {
    const { alerts, got, clock, notified } = make();
    alerts.snapshot({ seq: 1, takenAt: 1, source: 'procfs', sockets: [tcp(22, 0, 'root', 700, '0.0.0.0', 'sshd')] });
    const decoys = (from: number) => Array.from({ length: 300 }, (_, i) => udp(from + i, NOBODY, 'nobody', 4242));
    const poll = (sockets: Socket[]) => {
      clock.t += 1000;
      alerts.delta(delta(sockets));
    };
    const first = decoys(40_000);
    for (let i = 0; i < 300; i += 30) poll(first.slice(i, i + 30));
    poll([tcp(4444, 0, 'root', 31337)]);
    const second = decoys(41_000);
    for (let i = 0; i < 300; i += 30) poll(second.slice(i, i + 30));

    const real = got.find((a) => a.localPort === 4444);
    expect(real).toMatchObject({ protocol: 'tcp', localAddress: '0.0.0.0', exposure: 'all', severity: 'high', notify: true });
    expect(alerts.all().map((a) => a.id)).toContain(real?.id);
    // the decoys are loopback: low, listed, and never notified
    expect(notified().filter((a) => a.localPort !== 4444)).toHaveLength(0);
    expect(new Set(got.filter((a) => a.localPort !== 4444).map((a) => a.severity))).toEqual(new Set(['low']));
    expect(alerts.all().filter((a) => a.localPort !== 4444)).toHaveLength(50);
  });

  it("one user's flood of 0.0.0.0 listeners in one poll is one notification naming the count", () => {
    const { alerts, got, notified } = make();
    alerts.delta(delta(Array.from({ length: 120 }, (_, i) => tcp(20_000 + i, 1000, 'mallory', 5150))));
    alerts.delta(delta([]));
    expect(got).toHaveLength(120);
    expect(notified()).toHaveLength(1);
    expect(notified()[0]).toBe(got[0]);
    expect(got[0]?.message).toBe('120 new listeners on all interfaces, e.g. nc (pid 5150) listens on tcp 0.0.0.0:20000, reachable on every interface');
    expect(got[1]?.message).toBe('nc (pid 5150) listens on tcp 0.0.0.0:20001, reachable on every interface');
  });

  it('a flood spread over polls: the first is notified at once, the rest in one notification when the window closes', () => {
    const { alerts, got, clock, notified } = make({ coalesceMs: 10_000 });
    for (let i = 0; i < 8; i++) {
      alerts.delta(delta([tcp(20_000 + i, 1000, 'mallory', 5150), tcp(30_000 + i, 1000, 'mallory', 5150, '::')]));
      clock.t += 1000;
    }
    expect(notified().map((a) => a.message)).toEqual([
      '2 new listeners on all interfaces, e.g. nc (pid 5150) listens on tcp 0.0.0.0:20000, reachable on every interface',
    ]);
    alerts.delta(delta([])); // the last poll's held
    clock.t += 3000; // 10 s after the first notified (at the second poll: it held for two)
    alerts.delta(delta([])); // a poll that found nothing new still closes the window
    expect(notified()).toHaveLength(2);
    expect(notified()[1]?.message).toBe(
      '14 more new listeners on all interfaces, e.g. nc (pid 5150) listens on tcp 0.0.0.0:20001, reachable on every interface',
    );
    expect(got).toHaveLength(17);
    // and the next one, after the window, is news of its own
    clock.t += 10_000;
    alerts.delta(delta([tcp(25_000, 1000, 'mallory', 5150)]));
    alerts.delta(delta([]));
    expect(notified()).toHaveLength(3);
  });

  it("a listener on all interfaces is notified beside its user's loopback flood, and another user's flood in the same poll does not cover it", () => {
    const { alerts, notified } = make();
    alerts.delta(delta(Array.from({ length: 6 }, (_, i) => tcp(7000 + i, 0, 'root', 9, '127.0.0.1'))));
    alerts.delta(delta([...Array.from({ length: 40 }, (_, i) => tcp(20_000 + i, 1000, 'mallory', 5150)), tcp(4444, 0, 'root', 31337)]));
    alerts.delta(delta([]));
    expect(notified().map((a) => [a.localPort, a.message.split(',')[0]])).toEqual([
      [20_000, '40 new listeners on all interfaces'],
      [4444, 'nc (pid 31337) listens on tcp 0.0.0.0:4444'],
    ]);
  });

  it('loopback listeners of any uid, known or not, never notify', () => {
    const { alerts, got } = make();
    alerts.delta(delta(Array.from({ length: 7 }, (_, i) => udp(40_000 + i, NOBODY, 'nobody', 4242))));
    alerts.delta(delta(Array.from({ length: 7 }, (_, i) => tcp(50_000 + i, null, null, null, '127.0.0.1'))));
    alerts.delta(delta([udp(53, 0, 'root', 1, '127.0.0.1')]));
    alerts.delta(delta([]));
    expect(got).toHaveLength(15);
    expect(got.filter((a) => a.notify)).toHaveLength(0);
  });

  it("keeps at most perUid alerts of one uid, and when full drops the oldest of the uid with the most, not another's", () => {
    const { alerts } = make({ keep: 6, perUid: 4 });
    const ports = () => alerts.all().map((a) => a.localPort);
    const held = (added: Socket[]) => {
      alerts.delta(delta(added));
      alerts.delta(delta([]));
    };
    held([udp(1, 0, 'root', 1)]);
    held([2, 3, 4, 5, 6].map((p) => udp(p, NOBODY, 'nobody', 4242)));
    expect(ports()).toEqual([1, 3, 4, 5, 6]); // nobody's oldest went at four
    held([udp(7, 1000, 'mallory', 5150), udp(8, 1000, 'mallory', 5150)]);
    expect(ports()).toEqual([1, 4, 5, 6, 7, 8]); // full: nobody has the most
    held([udp(9, 1000, 'mallory', 5150), udp(10, 1000, 'mallory', 5150)]);
    expect(ports()).toEqual([1, 5, 6, 8, 9, 10]); // a tie (3 each) drops the older, nobody's 4; then mallory has the most
  });

  it("a uid's loopback flood never pushes out its own listener on all interfaces: the least severe go first", () => {
    const { alerts } = make({ perUid: 10 });
    alerts.delta(delta([tcp(4444, 1000, 'mallory', 5150)]));
    for (let i = 0; i < 30; i++) alerts.delta(delta([tcp(30_000 + i, 1000, 'mallory', 5150, '127.0.0.1')]));
    alerts.delta(delta([]));
    expect(alerts.all()).toHaveLength(10);
    expect(alerts.all()[0]).toMatchObject({ localPort: 4444, severity: 'high' });
  });
});
