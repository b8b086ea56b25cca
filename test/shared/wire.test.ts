import { describe, expect, it } from 'vitest';
import { createSource } from '../../src/main/engine/sources';
import type { Delta, Snapshot, Socket } from '../../src/shared/model';
import { decodeDelta, decodeDeltaKeeping, decodeSnapshot, encodeDelta, encodeSnapshot, WireError, WIRE_VERSION } from '../../src/shared/wire';
import { spawnReady } from '../helpers/children';
import { makeProcess, makeSocket } from '../helpers/sockets';

/** Through JSON, as a WebSocket carries it. */
const travel = <T>(x: T): unknown => JSON.parse(JSON.stringify(x)) as unknown;

const snap = (sockets: Socket[]): Snapshot => ({ seq: 7, takenAt: 1_700_000_000_123, source: 'netlink', sockets });

/** A client machine's usual world: a few processes, each with many established connections, with counters. */
function clients(n: number, processes = 10): Socket[] {
  const procs = Array.from({ length: processes }, (_, i) =>
    makeProcess(2000 + i, `worker-${i}`, {
      exe: '/usr/lib/firefox/firefox',
      cmdline: ['/usr/lib/firefox/firefox', '-contentproc', '-childID', String(i), '-isForBrowser'],
      uid: 1000,
      user: 'alice',
    }),
  );
  return Array.from({ length: n }, (_, i) => {
    const p = procs[i % processes] as (typeof procs)[number];
    const localPort = 40_000 + (i % 20_000);
    const remoteAddress = `93.184.${(i >> 8) & 255}.${i & 255}`;
    return makeSocket({
      id: `tcp|192.168.1.20|${localPort}|${remoteAddress}|443`,
      localAddress: '192.168.1.20',
      localPort,
      remoteAddress,
      remotePort: 443,
      state: 'ESTABLISHED',
      listening: false,
      pid: p.pid,
      pids: [p.pid],
      uid: 1000,
      user: 'alice',
      bytesIn: 1_234_567 + i,
      bytesOut: 45_678 + i,
      rttMs: 12.345,
      process: p,
    });
  });
}

describe('wire layout of snapshots and deltas', () => {
  it('gives back exactly the sockets of a live snapshot of this machine, each process object shared', async () => {
    // a process with several sockets, one shared with a child, and a name that is not ASCII
    const server = await spawnReady(
      'python3',
      [
        '-c',
        [
          'import socket, os, sys, ctypes, signal',
          "ctypes.CDLL(None).prctl(15, 'über-srv ✓'.encode(), 0, 0, 0)",
          's = socket.socket(socket.AF_INET6); s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0); s.bind(("::", 0)); s.listen()',
          'c = socket.create_connection(("::1", s.getsockname()[1])); a, _ = s.accept()',
          'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))',
          'if os.fork() == 0: signal.pause()',
          'print("ready", flush=True); sys.stdin.read()',
        ].join('\n'),
      ],
      { stdin: true },
    );
    const source = createSource('netlink', {});
    const forked = new Set<number>();
    try {
      const { sockets } = await source.list();
      const mine = sockets.filter((s) => s.pids.includes(server.pid));
      for (const s of mine) for (const pid of s.pids) forked.add(pid);
      expect(mine.length).toBeGreaterThanOrEqual(4);
      expect(mine.some((s) => s.pids.length === 2)).toBe(true);
      const s = snap(sockets);
      const back = decodeSnapshot(travel(encodeSnapshot(s)));
      expect(back).toEqual(s);
      // one object per process, as the engine hands them out
      const objects = new Set(back.sockets.filter((x) => x.pid === server.pid).map((x) => x.process));
      expect(objects.size).toBe(1);
      expect([...objects][0]?.name).toBe('über-srv ✓');
    } finally {
      source.close?.();
      server.proc.kill('SIGKILL');
      // the forked child too: it holds the sockets and would outlive the test
      for (const pid of forked) if (pid !== server.pid) process.kill(pid, 'SIGKILL');
    }
  });

  it('keeps every field of unusual sockets: ids off their tuple, duplicates, namespaces, no owner, a last owner, incomplete', () => {
    const p = makeProcess(10, 'nginx');
    const sockets: Socket[] = [
      makeSocket({ id: 'tcp|0.0.0.0|80|*|*|1652', pid: 10, pids: [10, 11, 12], process: p, interface: 'lo' }),
      makeSocket({
        id: 'tcp|10.0.0.1|5000|10.0.0.2|80#2',
        localAddress: '10.0.0.1',
        localPort: 5000,
        remoteAddress: '10.0.0.2',
        remotePort: 80,
        state: 'TIME_WAIT',
        listening: false,
        uid: null,
        user: null,
        noOwner: 'closed',
        lastOwner: p,
      }),
      makeSocket({
        id: 'net:[4026532281]|udp|::|53|*|*|99',
        protocol: 'udp',
        family: 6,
        localAddress: '::',
        localPort: 53,
        state: 'UNCONN',
        v6only: true,
        netns: 'net:[4026532281]',
        container: 'abc123def456',
        noOwner: 'pid-namespace',
        ownerHidden: true,
      }),
      makeSocket({ id: 'something the source made up', protocol: 'raw', localPort: 1, state: 'UNCONN', v6only: false, pid: 12, pids: [], process: null }),
      makeSocket({
        id: 'tcp|fe80::1|22|*|*|7',
        family: 6,
        localAddress: 'fe80::1',
        localPort: 22,
        interface: 'veth0',
        incomplete: true,
        process: makeProcess(12, 'sshd', { exe: null, startTime: null, uid: null, user: null, cmdline: [] }),
        pid: 12,
        pids: [12],
      }),
      makeSocket({ id: 'mptcp|127.0.0.1|9|*|*|-', protocol: 'mptcp', localPort: 9, state: 'BOUND', listening: false, bytesIn: 0, bytesOut: 0, rttMs: 0 }),
      makeSocket({
        id: 'tcp|10.0.0.1|900|10.0.0.2|443',
        localAddress: '10.0.0.1',
        localPort: 900,
        remoteAddress: '10.0.0.2',
        remotePort: 443,
        state: 'ESTABLISHED',
        listening: false,
        rateIn: 1234,
        rateOut: 0,
        direction: 'out',
        directionGuessed: true,
      }),
      makeSocket({ id: 'tcp|0.0.0.0|8|*|*|1', localPort: 8, rateIn: null, rateOut: null, direction: null, directionGuessed: false }),
    ];
    expect(decodeSnapshot(travel(encodeSnapshot(snap(sockets))))).toEqual(snap(sockets));
    const d: Delta = { seq: 8, takenAt: 5, added: sockets.slice(0, 3), changed: sockets.slice(3), removed: ['x', 'y'], closed: [] };
    expect(decodeDelta(travel(encodeDelta(d)))).toEqual(d);
  });

  it('sends each process once per message, and a copy of a process (a worker clone) once too', () => {
    const world = clients(1000);
    const wire = encodeSnapshot(snap(world));
    expect(wire.processes).toHaveLength(10);
    expect(wire.users).toEqual(['alice']);
    // structured clone across the worker boundary breaks object identity; equal fields are one process
    const cloned = structuredClone(world);
    expect(encodeSnapshot(snap(cloned)).processes).toHaveLength(10);
    // a process that changed (a new name, same pid) is a second entry, not a stale one
    const renamed = [
      ...world.slice(0, 999),
      { ...(world[999] as Socket), process: { ...(world[999]?.process as NonNullable<Socket['process']>), name: 'renamed' } },
    ];
    const back = decodeSnapshot(travel(encodeSnapshot(snap(renamed))));
    expect(back.sockets[999]?.process?.name).toBe('renamed');
    expect(back.sockets[989]?.process?.name).toBe('worker-9');
  });

  it("a delta the host decoded from its worker's rows goes on to clients as those rows, not encoded again", () => {
    const world = clients(20);
    const d: Delta = { seq: 3, takenAt: 1_700_000_000_500, added: world.slice(0, 10), changed: world.slice(10), removed: ['x'], closed: [] };
    const rows = structuredClone(encodeDelta(d));
    const kept = decodeDeltaKeeping(rows);
    expect(kept).toEqual(decodeDelta(rows));
    expect(encodeDelta(kept)).toBe(rows);
    // what the host builds itself is encoded as ever
    const plain = decodeDelta(rows);
    expect(encodeDelta(plain)).not.toBe(rows);
    expect(encodeDelta(plain)).toEqual(rows);
  });

  it('a snapshot of established connections takes at most 150 bytes a socket (it was about 570)', () => {
    const world = clients(10_000);
    const model = Buffer.byteLength(JSON.stringify(snap(world)));
    const wire = Buffer.byteLength(JSON.stringify(encodeSnapshot(snap(world))));
    expect(wire / world.length).toBeLessThanOrEqual(150);
    expect(wire).toBeLessThan(model / 3);
  });

  it('refuses what does not follow the layout with a WireError, never another exception', () => {
    const good = travel(encodeDelta({ seq: 1, takenAt: 1, added: clients(20), changed: clients(3), removed: ['a'], closed: [] })) as Record<string, unknown>;
    expect(() => decodeSnapshot({ ...(travel(encodeSnapshot(snap(clients(2)))) as object), v: WIRE_VERSION + 1 })).toThrow(
      /layout version 2, this page reads 1: reload the page/,
    );
    const bad: unknown[] = [null, 1, 'x', [], {}, { v: WIRE_VERSION }];
    // fuzz: replace one value anywhere in a good message with something of the wrong kind
    const paths: Array<Array<string | number>> = [];
    const walk = (x: unknown, path: Array<string | number>): void => {
      paths.push(path);
      if (Array.isArray(x)) x.forEach((y, i) => walk(y, [...path, i]));
      else if (x && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, [...path, k]);
    };
    walk(good, []);
    for (const path of paths.filter((_, i) => i % 3 === 0)) {
      for (const junk of [null, -1, 1e9, 'junk', {}, [], true]) {
        const m = structuredClone(good);
        let at: Record<string | number, unknown> = m;
        for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
        if (path.length === 0) continue;
        at[path[path.length - 1] as string | number] = junk;
        bad.push(m);
      }
    }
    let refused = 0;
    for (const m of bad) {
      try {
        decodeDelta(m);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(bad.length / 3);
  });
});
