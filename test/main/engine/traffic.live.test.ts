import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Monitor } from '../../../src/main/engine/monitor';
import { NetlinkSource } from '../../../src/main/engine/sources/netlink';
import type { Delta, Snapshot, Socket } from '../../../src/shared/model';
import { PYTHON, spawnReady, waitFor, type Child } from '../../helpers/children';
import { canNetns, Netns } from '../../helpers/netns';

/*
 * Rates and direction on a real transfer between two namespaces joined by a veth pair: a client namespace whose
 * ephemeral range is not the host's (so only a per-namespace reading of it gets the verdict right), a server
 * namespace sending a known number of bytes.
 */

const TOTAL = 3_000_000;

/** Listens on 10.77.0.2:7000; on a connection sends TOTAL bytes in 100 kB steps, 20 a second; prints "ready" first. */
const SERVER = String.raw`
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('10.77.0.2', 7000)); s.listen()
print('ready', flush=True)
while True:
    c, _ = s.accept()
    left = ${TOTAL}
    while left > 0:
        n = min(100000, left); c.sendall(b'x' * n); left -= n; time.sleep(0.05)
    c.recv(1)
`;

/** Connects from a port the kernel picks and from fixed port 900, reads everything, then waits. */
const CLIENT = String.raw`
import socket, sys, time
a = socket.create_connection(('10.77.0.2', 7000))
b = socket.socket(); b.bind(('10.77.0.1', 900)); b.connect(('10.77.0.2', 7000))
print(a.getsockname()[1], flush=True)
got = 0
while got < ${TOTAL}: got += len(a.recv(65536))
sys.stdin.readline()
`;

describe.runIf(canNetns)('rates and direction between two namespaces', () => {
  const client = Netns.unique('pw-tc-');
  const server = Netns.unique('pw-ts-');
  const children: Child[] = [];

  beforeAll(() => {
    client.create();
    server.create();
    const dev = `pwt${client.name.slice(-6)}`;
    execFileSync('ip', client.exec('ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}s`, 'netns', server.name));
    execFileSync('ip', client.exec('ip', 'addr', 'add', '10.77.0.1/24', 'dev', dev));
    execFileSync('ip', client.exec('ip', 'link', 'set', dev, 'up'));
    execFileSync('ip', server.exec('ip', 'addr', 'add', '10.77.0.2/24', 'dev', `${dev}s`));
    execFileSync('ip', server.exec('ip', 'link', 'set', `${dev}s`, 'up'));
    // the client namespace picks its ports from 20000-20100: outside the host's (and Linux's default) range
    execFileSync('ip', client.exec('sysctl', '-qw', 'net.ipv4.ip_local_port_range=20000 20100'));
  });

  afterAll(async () => {
    for (const c of children) await c.stop();
    client.remove();
    server.remove();
  });

  it('a known transfer: rates that add up to the bytes on both ends, in on the server, out on the client', async () => {
    children.push(await spawnReady('ip', server.exec(PYTHON, '-c', SERVER)));
    const monitor = new Monitor({ source: new NetlinkSource({ helperThreads: false }), intervalMs: 250 });
    let latest = new Map<string, Socket>();
    /** Each poll: when it was taken, and the sockets on port 7000 as it left them. */
    const polls: Array<{ at: number; sockets: Socket[] }> = [];
    const keep = (at: number): void => void polls.push({ at, sockets: [...latest.values()].filter((s) => s.localPort === 7000 || s.remotePort === 7000) });
    monitor.on('snapshot', (snap: Snapshot) => {
      latest = new Map(snap.sockets.map((s) => [s.id, s]));
      keep(snap.takenAt);
    });
    monitor.on('delta', (d: Delta) => {
      for (const id of d.removed) latest.delete(id);
      for (const s of [...d.added, ...d.changed]) latest.set(s.id, s);
      keep(d.takenAt);
    });
    monitor.start();
    try {
      const c = await spawnReady('ip', client.exec(PYTHON, '-c', CLIENT), { stdin: true });
      children.push(c);
      const picked = Number(c.firstLine);
      expect(picked).toBeGreaterThanOrEqual(20000);
      expect(picked).toBeLessThanOrEqual(20100);
      const find = (pred: (s: Socket) => boolean): Socket | undefined => [...latest.values()].find(pred);
      const isClient = (s: Socket): boolean => s.localPort === picked && s.remotePort === 7000;
      const isServer = (s: Socket): boolean => s.localPort === 7000 && s.remotePort === picked;
      // until both ends counted every byte and a later poll saw them idle
      await waitFor(
        () => (find(isClient)?.bytesIn === TOTAL && find(isClient)?.rateIn === 0 && find(isServer)?.rateOut === 0 ? true : undefined),
        30_000,
        'the transfer done and seen idle',
      );

      expect(find(isClient)).toMatchObject({ direction: 'out', directionGuessed: false });
      expect(find(isServer)).toMatchObject({ direction: 'in', directionGuessed: false });
      // a client on a fixed low port is still out (a guess: no listener takes port 900 in its namespace)
      expect(find((s) => s.localPort === 900 && s.remotePort === 7000)).toMatchObject({ direction: 'out' });
      expect(find((s) => s.localPort === 7000 && s.remotePort === 900)).toMatchObject({ direction: 'in', directionGuessed: false });

      // each poll's rate times the time since the poll before adds up to the bytes counted since first sight
      const check = (pick: (s: Socket) => boolean, rate: 'rateIn' | 'rateOut', bytes: 'bytesIn' | 'bytesOut'): void => {
        let summed = 0;
        let first: number | null = null;
        let last = 0;
        let prevAt: number | null = null;
        for (const p of polls) {
          const s = p.sockets.find(pick);
          if (s === undefined) continue;
          const r = s[rate];
          if (first === null) first = s[bytes] ?? 0;
          else if (r !== null && r !== undefined && prevAt !== null) summed += (r * (p.at - prevAt)) / 1000;
          last = s[bytes] ?? 0;
          prevAt = p.at;
        }
        const counted = last - (first ?? 0);
        expect(counted).toBeGreaterThan(TOTAL / 2);
        expect(Math.abs(summed - counted)).toBeLessThan(counted * 0.005);
      };
      check(isClient, 'rateIn', 'bytesIn');
      check(isServer, 'rateOut', 'bytesOut');
    } finally {
      await monitor.stop();
    }
  });
});
