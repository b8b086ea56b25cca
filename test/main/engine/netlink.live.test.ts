import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Socket as TcpSocket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mptcpInUse, NetlinkSource } from '../../../src/main/engine/sources/netlink';
import { DiagSocket } from '../../../src/main/engine/netlink/transport';
import { createSource } from '../../../src/main/engine/sources';
import { Monitor } from '../../../src/main/engine/monitor';
import { applyDelta, indexSockets } from '../../../src/main/engine/diff';
import { exposureOf } from '../../../src/shared/exposure';
import { formatLocal, type ClosedConnection, type Delta, type Snapshot, type Socket } from '../../../src/shared/model';
import { matchesQuery, parseQuery } from '../../../src/shared/query';
import { AS_NOBODY, PYTHON, spawnReady, TIME_WAIT_CLIENT, waitFor, type Child } from '../../helpers/children';
import { canNetns, Netns } from '../../helpers/netns';

/**
 * The netlink source against worlds built in network namespaces of the tests' own, read from this (root)
 * namespace as Portwatch reads a container's: every socket carries its namespace.
 */

function inNs(sockets: readonly Socket[], ns: Netns): Socket[] {
  const id = ns.id();
  return sockets.filter((s) => s.netns === id);
}

async function listOnce(): Promise<Socket[]> {
  const src = new NetlinkSource({ helperThreads: false, closedEvents: false });
  try {
    return (await src.list()).sockets;
  } finally {
    src.close();
  }
}

describe.runIf(canNetns)('netlink source: what /proc/net could not tell', () => {
  const ns = Netns.unique('pw-nl-');
  const children: Child[] = [];
  let pid = 0;

  beforeAll(async () => {
    ns.create();
    const ip = (...a: string[]): void => void execFileSync('ip', ns.exec('ip', ...a));
    ip('link', 'add', 'pwa', 'type', 'veth', 'peer', 'name', 'pwb');
    for (const dev of ['pwa', 'pwb']) {
      ip('link', 'set', dev, 'up');
      ip('addr', 'add', 'fe80::1/64', 'dev', dev, 'nodad');
    }
    execFileSync('ip', ns.exec('sysctl', '-qw', 'net.ipv4.ping_group_range=0 2147483647'));
    const world = await spawnReady('ip', ns.exec(PYTHON, '-c', WORLD));
    children.push(world);
    pid = world.pid;
  });

  afterAll(async () => {
    for (const c of children) await c.stop();
    ns.remove();
  });

  it('steady polls dumped on a helper thread list exactly what dumps on this thread list', async () => {
    // sockets of this process, in Portwatch's own namespace (the one the helper thread dumps)
    const server = createServer((c) => c.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const clients = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<TcpSocket>((r) => {
            const c = connect((server.address() as AddressInfo).port, '127.0.0.1', () => r(c));
          }),
      ),
    );
    // and a bound-only socket, which a steady poll dumps on this thread while the helper dumps the rest
    const bound = await spawnReady(PYTHON, ['-c', BOUND_ONLY], { stdin: true });
    const boundPort = Number(bound.firstLine);
    const streamed = new NetlinkSource({ closedEvents: false });
    const here = new NetlinkSource({ helperThreads: false, closedEvents: false });
    const mine = (sockets: readonly Socket[]): string[] =>
      sockets
        .filter((s) => (s.pid === process.pid || s.pid === bound.pid) && s.protocol === 'tcp')
        .map((s) => `${s.id} ${s.state} ${s.localPort} ${s.bytesIn} ${s.bytesOut}`)
        .sort();
    try {
      // every connection accepted (a queued one has no inode yet), so that nothing changes from here on
      await waitFor(async () => (mine((await here.list()).sockets).length === 102 ? true : undefined), 5000, 'all 50 accepted');
      await streamed.list();
      for (let i = 0; i < 3; i++) {
        const a = mine((await streamed.list()).sockets);
        const b = mine((await here.list()).sockets);
        expect(streamed.dumpsFromHelper).toBeGreaterThan(0);
        expect(a).toEqual(b);
        expect(a.length).toBe(102);
        expect(a.filter((k) => k.includes(' BOUND ')).length).toBe(1);
        expect(a.some((k) => k.includes(` BOUND ${boundPort} `))).toBe(true);
      }
    } finally {
      await bound.stop();
      streamed.close();
      here.close();
      for (const c of clients) c.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('names the device a socket is bound to, and judges exposure by it', async () => {
    const mine = inNs(await listOnce(), ns).filter((s) => s.pid === pid);
    const byPort = (p: number): Socket[] => mine.filter((s) => s.localPort === p);
    const lo = byPort(42001)[0] as Socket;
    expect([formatLocal(lo), lo.interface, exposureOf(lo)]).toEqual(['0.0.0.0%lo:42001', 'lo', 'loopback']);
    const udp = byPort(42002)[0] as Socket;
    expect([udp.protocol, udp.interface, exposureOf(udp)]).toEqual(['udp', 'pwa', 'interface']);
    // two listeners on fe80::1, one per veth: two rows that say which
    const ll = byPort(42003);
    expect(ll.map((s) => formatLocal(s)).sort()).toEqual(['[fe80::1]%pwa:42003', '[fe80::1]%pwb:42003']);
    expect(new Set(ll.map((s) => s.id)).size).toBe(2);
    // v6-only `[::]` and dual-stack `*`, as ss writes them
    expect(formatLocal(byPort(42004)[0] as Socket)).toBe('[::]:42004');
    expect(byPort(42004)[0]?.v6only).toBe(true);
    expect(formatLocal(byPort(42005)[0] as Socket)).toBe('*:42005');
    expect(byPort(42005)[0]?.v6only).toBe(false);
  });

  it('dumps TCP of both families at once and lists what a dump per family lists; a kernel that refuses that dump gets one per family', async () => {
    const real = DiagSocket.prototype.dump;
    const asked: string[] = [];
    let refuse = false;
    const spy = vi.spyOn(DiagSocket.prototype, 'dump').mockImplementation(function (this: DiagSocket, spec, parser, out) {
      if (spec.protocol === 'tcp') asked.push(String(spec.family));
      // as a kernel without the original request answers it (no inet_diag compat handler)
      if (refuse && spec.family === 'both') return { error: 22, interrupted: false, errors: [] };
      return real.call(this, spec, parser, out);
    });
    const tcpOf = (sockets: readonly Socket[]): string[] =>
      inNs(sockets, ns)
        .filter((s) => s.pid === pid && s.protocol === 'tcp')
        .map((s) => `${s.id} ${s.state} ${formatLocal(s)}`)
        .sort();
    try {
      const once = tcpOf(await listOnce());
      // one dump per namespace: ours and the test's
      expect(asked.length).toBeGreaterThanOrEqual(2);
      expect(new Set(asked)).toEqual(new Set(['both']));
      expect(once.some((k) => k.includes('[::]:42004')) && once.some((k) => k.includes('0.0.0.0%lo:42001'))).toBe(true);
      refuse = true;
      asked.length = 0;
      const src = new NetlinkSource({ helperThreads: false, closedEvents: false });
      try {
        expect(tcpOf((await src.list()).sockets)).toEqual(once);
        expect(asked.filter((f) => f === 'both').length).toBeGreaterThanOrEqual(2);
        expect(asked.filter((f) => f === '4').length).toBe(asked.filter((f) => f === 'both').length);
        asked.length = 0;
        // the next poll does not ask again
        expect(tcpOf((await src.list()).sockets)).toEqual(once);
        expect(asked.includes('both')).toBe(false);
        expect(asked.filter((f) => f === '6').length).toBeGreaterThanOrEqual(2);
      } finally {
        src.close();
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('lists raw, ping, UDP-Lite, bound-only and MPTCP sockets as what they are, with their owner', async () => {
    const mine = inNs(await listOnce(), ns).filter((s) => s.pid === pid);
    const kinds = mine.map((s) => `${s.protocol}${s.family === 6 ? '6' : ''} ${s.state} ${s.localPort}`);
    expect(kinds).toContain('raw UNCONN 1'); // a raw ICMP socket: its "port" is the IP protocol number
    expect(kinds).toContain('udplite UNCONN 42006');
    expect(kinds).toContain('tcp BOUND 42007');
    expect(kinds).toContain('mptcp LISTEN 42008');
    expect(kinds.filter((k) => k.endsWith(' 42008'))).toEqual(['mptcp LISTEN 42008']); // its subflow is not a second row
    expect(mine.some((s) => s.protocol === 'icmp' && s.state === 'UNCONN')).toBe(true);
    for (const s of mine) expect(s.process?.pid).toBe(pid);
  });

  it("says a TIME_WAIT socket has no owner, not root's: user:root does not find nobody's closed connection", async () => {
    const client = await spawnReady('ip', ns.exec(...AS_NOBODY, PYTHON, '-c', TIME_WAIT_CLIENT));
    children.push(client);
    const port = Number(client.firstLine);
    const tw = await waitFor(async () => inNs(await listOnce(), ns).find((s) => s.localPort === port && s.state === 'TIME_WAIT'), 5000, 'a TIME_WAIT socket');
    expect([tw.uid, tw.user, tw.noOwner, tw.pid]).toEqual([null, null, 'closed', null]);
    const q = parseQuery('user:root');
    if (!q.ok) throw new Error(q.message);
    expect(matchesQuery(q.query, tw)).toBe(false);
  });

  it('counts a known transfer in bytesIn and bytesOut, on both ends, within 1%', async () => {
    const t = await spawnReady('ip', ns.exec(PYTHON, '-c', TRANSFER), { stdin: true });
    children.push(t);
    const port = Number(t.firstLine);
    const MB = 1_000_000;
    const ends = await waitFor(
      async () => {
        const conn = inNs(await listOnce(), ns).filter((s) => s.state === 'ESTABLISHED' && (s.localPort === port || s.remotePort === port));
        return conn.length === 2 && conn.every((s) => (s.bytesIn ?? 0) + (s.bytesOut ?? 0) >= MB) ? conn : undefined;
      },
      5000,
      'the transfer',
    );
    const client = ends.find((s) => s.remotePort === port) as Socket;
    const server = ends.find((s) => s.localPort === port) as Socket;
    expect(Math.abs((client.bytesOut as number) - MB)).toBeLessThanOrEqual(MB / 100);
    expect(Math.abs((server.bytesIn as number) - MB)).toBeLessThanOrEqual(MB / 100);
    expect(client.bytesIn).toBe(0);
    expect(client.rttMs).toBeGreaterThan(0);
  });

  it('reports a connection that opened and closed between two polls, with its bytes', async () => {
    const src = new NetlinkSource({ helperThreads: false });
    try {
      await src.list();
      const c = await spawnReady('ip', ns.exec(PYTHON, '-c', SHORT_LIVED));
      children.push(c);
      // it opens and closes before printing its port: no poll ran while it lived (one before, the next after)
      const port = Number(c.firstLine);
      const closed: ClosedConnection[] = await waitFor(async () => {
        const r = await src.list();
        const hit = (r.closed ?? []).filter((x) => x.localPort === port || x.remotePort === port);
        return hit.length === 2 ? hit : undefined;
      });
      const server = closed.find((x) => x.localPort === port) as ClosedConnection;
      const client = closed.find((x) => x.remotePort === port) as ClosedConnection;
      expect([client.bytesOut, client.bytesIn, server.bytesIn, server.bytesOut]).toEqual([4321, 1234, 4321, 1234]);
      expect(client.netns).toBe(ns.id());
    } finally {
      src.close();
    }
  });
});

describe.runIf(canNetns)('closed connections through the monitor', () => {
  const ns = Netns.unique('pw-closed-');
  beforeAll(() => ns.create());
  afterAll(() => ns.remove());

  it('a connection a poll saw is reported closed with the owner it had and when it was first seen', async () => {
    const c = await spawnReady('ip', ns.exec(PYTHON, '-c', CLOSE_ON_NEWLINE), { stdin: true });
    const monitor = new Monitor({ source: new NetlinkSource({ helperThreads: false }), intervalMs: 250 });
    const closed: ClosedConnection[] = [];
    const timeWait: Socket[] = [];
    let polls = 0;
    monitor.on('delta', (d: Delta) => {
      polls++;
      closed.push(...d.closed);
      for (const s of [...d.added, ...d.changed]) if (s.state === 'TIME_WAIT') timeWait.push(s);
    });
    monitor.start();
    try {
      const port = Number(c.firstLine);
      await waitFor(() => (polls >= 1 ? true : undefined), 5000, 'a poll that sees the connection');
      c.proc.stdin?.write('\n');
      const mine = await waitFor(
        () => {
          const hit = closed.filter((x) => x.localPort === port || x.remotePort === port);
          return hit.length === 2 ? hit : undefined;
        },
        5000,
        'both ends closed',
      );
      for (const x of mine) {
        expect(x.pid).toBe(c.pid);
        expect(x.name).toMatch(/python/);
        expect(x.firstSeen).toBeLessThanOrEqual(x.closedAt);
      }
      expect(mine.find((x) => x.remotePort === port)?.bytesOut).toBe(777);
      // the client closed first: the kernel keeps its end in TIME_WAIT, ownerless, and the list says whose it was
      const held = await waitFor(() => timeWait.find((s) => s.remotePort === port), 5000, 'the client end in TIME_WAIT');
      expect(held.pid).toBeNull();
      expect(held.noOwner).toBe('closed');
      expect(held.lastOwner?.pid).toBe(c.pid);
      expect(held.lastOwner?.name).toMatch(/python/);
    } finally {
      await monitor.stop();
      await c.stop();
    }
  });
});

describe("netlink source: MPTCP's dumps only where /proc/net/protocols counts MPTCP sockets", () => {
  const MPTCP_LISTENER = String.raw`
import socket, sys
m = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262); m.bind(('127.0.0.1', 0)); m.listen()
print(m.getsockname()[1], flush=True)
sys.stdin.read()
`;
  const children: Child[] = [];
  const roots: string[] = [];
  afterAll(async () => {
    for (const c of children) await c.stop();
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('dumps MPTCP where the count says there is some; trusts a count of none until a check dump finds some', async () => {
    const listener = await spawnReady(PYTHON, ['-c', MPTCP_LISTENER], { stdin: true });
    children.push(listener);
    const port = Number(listener.firstLine);
    const kinds = (sockets: readonly Socket[]): string[] => sockets.filter((s) => s.localPort === port).map((s) => `${s.protocol} ${s.state}`);
    // the real count: one MPTCP listener at least
    expect(mptcpInUse(readFileSync('/proc/net/protocols', 'utf8'))).toBeGreaterThanOrEqual(1);
    const real = new NetlinkSource({ helperThreads: false, closedEvents: false, namespaces: false });
    try {
      expect(kinds((await real.list()).sockets)).toEqual(['mptcp LISTEN']);
      expect(real.mptcpDumps).toBe(2);
    } finally {
      real.close();
    }
    // a /proc whose net/protocols counts none (as a kernel without MPTCP's accounting would): no MPTCP dump,
    // and the listener shows as the TCP socket under it, until the check poll's dump finds it
    const root = mkdtempSync(join(tmpdir(), 'pw-protocols-'));
    roots.push(root);
    mkdirSync(join(root, 'net'));
    const zero = readFileSync('/proc/net/protocols', 'utf8').replace(/^(MPTCP(?:v6)?\s+\d+\s+)\d+/gm, '$10');
    expect(mptcpInUse(zero)).toBe(0);
    writeFileSync(join(root, 'net', 'protocols'), zero);
    writeFileSync(join(root, 'stat'), 'cpu  1 2 3\nbtime 1700000000\n');
    const counted = new NetlinkSource({ helperThreads: false, closedEvents: false, namespaces: false, procRoot: root });
    try {
      expect(kinds((await counted.list()).sockets)).toEqual(['tcp LISTEN']);
      expect(counted.mptcpDumps).toBe(0);
      for (let poll = 1; poll < 30; poll++) await counted.list();
      expect(counted.mptcpDumps).toBe(0);
      expect(kinds((await counted.list()).sockets)).toEqual(['mptcp LISTEN']); // poll 30: the check
      expect(counted.mptcpDumps).toBe(2);
      expect(kinds((await counted.list()).sockets)).toEqual(['mptcp LISTEN']); // and from then on
      expect(counted.mptcpDumps).toBe(2);
    } finally {
      counted.close();
    }
  });
});

describe.runIf(canNetns)('the owner of a connection no poll saw', () => {
  const ns = Netns.unique('pw-guess-');
  beforeAll(() => ns.create());
  afterAll(() => ns.remove());

  it("going out: the owner of the client's earlier connection to the same host and port; coming in: the listener's, each marked a guess", async () => {
    const server = await spawnReady('ip', ns.exec(PYTHON, '-c', ECHO_SERVER));
    const port = Number(server.firstLine);
    const client = await spawnReady('ip', ns.exec(PYTHON, '-c', REPEAT_CLIENT, String(port)), { stdin: true });
    const lines: string[] = [];
    let partial = '';
    client.proc.stdout?.on('data', (b: Buffer) => {
      // whole lines only: a line may come in two reads
      const parts = (partial + b.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter(Boolean));
    });
    // polled by hand: nothing runs while the short connection lives
    const monitor = new Monitor({ source: new NetlinkSource({ helperThreads: false }), intervalMs: 60_000 });
    const closed: ClosedConnection[] = [];
    let polls = 0;
    monitor.on('snapshot', () => polls++);
    monitor.on('delta', (d: Delta) => {
      polls++;
      closed.push(...d.closed);
    });
    try {
      await monitor.pollOnce(); // sees the long connection, owned by the client
      expect(monitor.getSnapshot()?.sockets.some((s) => s.pid === client.pid && s.remotePort === port && s.direction === 'out')).toBe(true);
      client.proc.stdin?.write('\n');
      const shortPort = Number((await waitFor(() => lines.find((l) => l.startsWith('short ')), 15_000, 'the short connection')).slice(6));
      const ends = await waitFor(
        async () => {
          await monitor.pollOnce();
          const hit = closed.filter((x) => x.localPort === shortPort || (x.localPort === port && x.remotePort === shortPort));
          return hit.length === 2 ? hit : undefined;
        },
        10_000,
        'both ends of the short connection closed',
      );
      const out = ends.find((x) => x.localPort === shortPort) as ClosedConnection;
      const inbound = ends.find((x) => x.localPort === port) as ClosedConnection;
      expect(polls).toBeGreaterThanOrEqual(2);
      expect([out.firstSeen, inbound.firstSeen]).toEqual([null, null]); // no poll saw it
      expect(out).toMatchObject({ pid: client.pid, ownerGuess: 'destination', bytesOut: 300 });
      expect(out.name).toMatch(/python/);
      expect(inbound).toMatchObject({ pid: server.pid, ownerGuess: 'listener', bytesIn: 300 });
    } finally {
      await client.stop();
      await server.stop();
    }
  });
});

describe.runIf(canNetns)('netlink source under churn', () => {
  const ns = Netns.unique('pw-churn-');
  beforeAll(() => ns.create());
  afterAll(() => ns.remove());

  it('500 connections a second for 10 s: no id twice in any poll, and the state rebuilt from deltas equals a fresh list', async () => {
    const server = await spawnReady('ip', ns.exec(PYTHON, '-c', CHURN), { stdin: true });
    const source = createSource('auto');
    const monitor = new Monitor({ source, intervalMs: 250 });
    let state: Map<string, Socket> | null = null;
    let polls = 0;
    const repeated: string[] = [];
    const ids = (sockets: readonly Socket[]): void => {
      const seen = new Set<string>();
      for (const s of sockets) {
        if (seen.has(s.id) || s.id.includes('#')) repeated.push(s.id);
        seen.add(s.id);
      }
    };
    monitor.on('snapshot', (s: Snapshot) => {
      ids(s.sockets);
      state = indexSockets(s.sockets);
    });
    monitor.on('delta', (d: Delta) => {
      polls++;
      ids([...d.added, ...d.changed]);
      if (state) applyDelta(state, d);
      if (state) ids([...state.values()]);
    });
    monitor.start();
    try {
      server.proc.stdin?.write('go\n');
      await waitFor(() => (polls >= 40 ? true : undefined), 20_000, '40 polls under churn');
      server.proc.stdin?.write('stop\n');
      await waitFor(() => (server.proc.exitCode !== null ? true : undefined), 10_000, 'the churn to stop');
      const settled = polls;
      await waitFor(() => (polls >= settled + 2 ? true : undefined), 5000, 'two quiet polls');
      await monitor.stop();
      expect(source.name).toBe('netlink');
      expect(repeated).toEqual([]);
      const fresh = inNs(await listOnce(), ns)
        .map((s) => s.id)
        .sort();
      const rebuilt = inNs([...(state as unknown as Map<string, Socket>).values()], ns)
        .map((s) => s.id)
        .sort();
      expect(fresh.length).toBeGreaterThan(1000); // the TIME_WAITs of the churn
      expect(rebuilt).toEqual(fresh);
    } finally {
      await monitor.stop();
      await server.stop();
    }
  }, 60_000);
});

/** Every kind of socket, held by one process. */
/** A TCP socket bound to a loopback port that never listens nor connects; prints the port. */
const BOUND_ONLY = String.raw`
import socket, sys
b = socket.socket(); b.bind(('127.0.0.1', 0))
print(b.getsockname()[1], flush=True)
sys.stdin.read()
`;

const WORLD = String.raw`
import socket, sys, time
keep = []
def tcp(fam, addr, v6only=None, dev=None, listen=True):
    s = socket.socket(fam, socket.SOCK_STREAM)
    if v6only is not None: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    if dev: s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
    s.bind(addr)
    if listen: s.listen()
    keep.append(s)
tcp(socket.AF_INET, ('0.0.0.0', 42001), dev='lo')
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b'pwa'); u.bind(('0.0.0.0', 42002)); keep.append(u)
for dev in ('pwa', 'pwb'): tcp(socket.AF_INET6, ('fe80::1', 42003, 0, socket.if_nametoindex(dev)))
tcp(socket.AF_INET6, ('::', 42004), v6only=1)
tcp(socket.AF_INET6, ('::', 42005), v6only=0)
keep.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); p.bind(('127.0.0.1', 0)); keep.append(p)
ul = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136); ul.bind(('127.0.0.1', 42006)); keep.append(ul)
tcp(socket.AF_INET, ('127.0.0.1', 42007), listen=False)
m = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262); m.bind(('127.0.0.1', 42008)); m.listen(); keep.append(m)
print('ready', flush=True)
time.sleep(600)
`;

/** A 1 MB transfer one way over a connection that stays open. */
const TRANSFER = String.raw`
import socket, time
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
c = socket.create_connection(srv.getsockname()); a, _ = srv.accept()
c.sendall(b'x' * 1000000)
got = 0
while got < 1000000: got += len(a.recv(1 << 20))
print(srv.getsockname()[1], flush=True)
time.sleep(600)
`;

/** A connection that lives a few milliseconds: 4321 bytes one way, 1234 back, then both close. */
const SHORT_LIVED = String.raw`
import socket, time
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
c = socket.create_connection(srv.getsockname()); a, _ = srv.accept()
c.sendall(b'x' * 4321)
got = 0
while got < 4321: got += len(a.recv(65536))
a.sendall(b'y' * 1234)
got = 0
while got < 1234: got += len(c.recv(65536))
c.close(); a.close()
print(srv.getsockname()[1], flush=True)
time.sleep(600)
`;

/** A connection with 777 bytes sent, both ends closed on a newline. */
const CLOSE_ON_NEWLINE = String.raw`
import socket, sys, time
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
c = socket.create_connection(srv.getsockname()); a, _ = srv.accept()
c.sendall(b'x' * 777)
got = 0
while got < 777: got += len(a.recv(4096))
print(srv.getsockname()[1], flush=True)
sys.stdin.readline()
c.close(); a.close()
time.sleep(600)
`;

/** A server that reads until its client closes, for every client; prints its port. */
const ECHO_SERVER = String.raw`
import socket, threading
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
def drain(a):
    while a.recv(65536): pass
    a.close()
print(srv.getsockname()[1], flush=True)
while True:
    a, _ = srv.accept(); threading.Thread(target=drain, args=(a,), daemon=True).start()
`;

/** Holds one connection to the port in argv; on each newline opens a short one (300 bytes out), closes it, prints its local port. */
const REPEAT_CLIENT = String.raw`
import socket, sys
port = int(sys.argv[1])
keep = socket.create_connection(('127.0.0.1', port))
print('ready', flush=True)
for _ in sys.stdin:
    c = socket.create_connection(('127.0.0.1', port)); c.sendall(b'z' * 300); local = c.getsockname()[1]; c.close()
    print('short', local, flush=True)
`;

/** On "go", 500 short connections a second (each a few bytes each way) until "stop". */
const CHURN = String.raw`
import socket, sys, threading, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); srv.bind(('127.0.0.1', 0)); srv.listen(1024)
stop = threading.Event()
def serve():
    while not stop.is_set():
        try:
            a, _ = srv.accept(); a.recv(16); a.sendall(b'ok'); a.close()
        except OSError:
            return
threading.Thread(target=serve, daemon=True).start()
print('ready', flush=True)
sys.stdin.readline()
def churn():
    n = 0; t0 = time.monotonic()
    while not stop.is_set():
        c = socket.create_connection(srv.getsockname()); c.sendall(b'hi'); c.recv(16); c.close()
        n += 1
        ahead = n / 500 - (time.monotonic() - t0)
        if ahead > 0: time.sleep(ahead)
threading.Thread(target=churn, daemon=True).start()
sys.stdin.readline()
stop.set(); time.sleep(0.1)
`;
