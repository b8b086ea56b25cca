import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkSource } from '../../../src/main/engine/sources/netlink';
import { ProcfsSource } from '../../../src/main/engine/sources/procfs';
import type { SocketSource } from '../../../src/main/engine/sources/source';
import type { Socket } from '../../../src/shared/model';
import { AS_NOBODY, NODE_LISTENER, PYTHON, spawnReady, TIME_WAIT_CLIENT, waitFor, type Child } from '../../helpers/children';
import { BIN } from '../../helpers/paths';
import { parseSs, sameAddress, type SsRow } from '../../helpers/ss';

const me = userInfo().username;
const isRoot = process.getuid?.() === 0;
const hasSs = (() => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

async function tcpServer(host: string): Promise<Server> {
  const s = createServer((c) => c.on('error', () => {}));
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, host, () => resolve());
  });
  return s;
}
const portOf = (s: Server | UdpSocket): number => (s.address() as { port: number }).port;

function find(sockets: Socket[], where: Partial<Socket>): Socket {
  const hits = sockets.filter((s) => Object.entries(where).every(([k, v]) => s[k as keyof Socket] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} sockets like ${JSON.stringify(where)}`);
  return hits[0] as Socket;
}

/** Both Linux sources are held to the same live tests. */
const SOURCES: Array<[string, () => SocketSource]> = [
  ['procfs', () => new ProcfsSource()],
  ['netlink', () => new NetlinkSource()],
];

describe.each(SOURCES)('%s source on this machine', (_name, make) => {
  const servers: Server[] = [];
  const udps: UdpSocket[] = [];
  const children: Child[] = [];
  let client: TcpSocket;
  let tmp: string;
  let nodeLong: Child;
  let pyLong: Child;
  const source = make();

  beforeAll(async () => {
    for (const host of ['127.0.0.1', '0.0.0.0', '::1', '::']) servers.push(await tcpServer(host));
    const target = servers[0] as Server;
    client = connect(portOf(target), '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => r()));
    for (const type of ['udp4', 'udp6'] as const) {
      const u = createSocket(type);
      await new Promise<void>((r) => u.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => r()));
      udps.push(u);
    }
    tmp = mkdtempSync(join(tmpdir(), 'pw-live-'));
    // a name longer than the kernel's 15-character comm, reached through argv[0] (symlink) ...
    const nodeLink = join(tmp, 'portwatch-long-node-listener');
    symlinkSync(process.execPath, nodeLink);
    nodeLong = await spawnReady(nodeLink, ['-e', NODE_LISTENER, '127.0.0.1']);
    // ... and through the executable path only (argv[0] says something else)
    const pyCopy = join(tmp, 'portwatch-long-python-listener');
    copyFileSync('/usr/bin/python3.11', pyCopy);
    execFileSync('chmod', ['755', pyCopy]);
    pyLong = await spawnReady(
      pyCopy,
      ['-c', 'import socket\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen()\nprint(s.getsockname()[1],flush=True)\n__import__("time").sleep(600)'],
      { argv0: 'py' },
    );
    children.push(nodeLong, pyLong);
  });

  afterAll(async () => {
    client?.destroy();
    for (const u of udps) u.close();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await Promise.all(children.map((c) => c.stop()));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('lists TCP listeners on every kind of address with full addresses, our pid, name and user', async () => {
    const { sockets } = await source.list();
    const want: Array<[number, string, 4 | 6]> = [
      [portOf(servers[0] as Server), '127.0.0.1', 4],
      [portOf(servers[1] as Server), '0.0.0.0', 4],
      [portOf(servers[2] as Server), '::1', 6],
      [portOf(servers[3] as Server), '::', 6],
    ];
    for (const [port, address, family] of want) {
      const s = find(sockets, { protocol: 'tcp', localPort: port, state: 'LISTEN' });
      expect(s).toMatchObject({ family, localAddress: address, remoteAddress: null, remotePort: null, listening: true });
      expect(s).toMatchObject({ pid: process.pid, pids: [process.pid], user: me, ownerHidden: false });
      expect(s.process).toMatchObject({ pid: process.pid, ppid: process.ppid, user: me, exe: process.execPath });
      expect(s.process?.cmdline[0]).toMatch(/node/);
      expect(Math.abs((s.process?.startTime ?? 0) - (Date.now() - process.uptime() * 1000))).toBeLessThan(2000);
    }
  });

  it('lists both ends of a connected pair as ESTABLISHED with the peer address', async () => {
    const { sockets } = await source.list();
    const serverPort = portOf(servers[0] as Server);
    const clientPort = client.localPort as number;
    const out = find(sockets, { protocol: 'tcp', localPort: clientPort, remotePort: serverPort });
    expect(out).toMatchObject({ state: 'ESTABLISHED', listening: false, localAddress: '127.0.0.1', remoteAddress: '127.0.0.1', pid: process.pid });
    const back = find(sockets, { protocol: 'tcp', localPort: serverPort, remotePort: clientPort });
    expect(back).toMatchObject({ state: 'ESTABLISHED', pid: process.pid });
  });

  it('lists unconnected UDP on v4 and v6 as UNCONN listeners', async () => {
    const { sockets } = await source.list();
    expect(find(sockets, { protocol: 'udp', localPort: portOf(udps[0] as UdpSocket) })).toMatchObject({
      family: 4,
      localAddress: '127.0.0.1',
      state: 'UNCONN',
      listening: true,
      remoteAddress: null,
      pid: process.pid,
    });
    expect(find(sockets, { protocol: 'udp', localPort: portOf(udps[1] as UdpSocket) })).toMatchObject({
      family: 6,
      localAddress: '::1',
      state: 'UNCONN',
      pid: process.pid,
    });
  });

  it("gives a child's socket to the child, with its full name past 15 characters", async () => {
    const { sockets } = await source.list();
    const viaArgv = find(sockets, { localPort: Number(nodeLong.firstLine), state: 'LISTEN' });
    expect(viaArgv.pid).toBe(nodeLong.pid);
    expect(viaArgv.process).toMatchObject({ pid: nodeLong.pid, ppid: process.pid, name: 'portwatch-long-node-listener', user: me });
    const viaExe = find(sockets, { localPort: Number(pyLong.firstLine), state: 'LISTEN' });
    expect(viaExe.pid).toBe(pyLong.pid);
    expect(viaExe.process?.name).toBe('portwatch-long-python-listener');
    expect(viaExe.process?.cmdline[0]).toBe('py');
    // the kernel really did cut it
    expect(execFileSync('cat', [`/proc/${pyLong.pid}/comm`], { encoding: 'utf8' }).trim()).toBe('portwatch-long-');
  });

  it.runIf(isRoot)("gives a TIME_WAIT socket no owner uid: the kernel's 0 there is not root", async () => {
    // nobody connects and closes first: its end goes to TIME_WAIT, which no process holds any more
    const client = await spawnReady(AS_NOBODY[0] as string, [...AS_NOBODY.slice(1), PYTHON, '-c', TIME_WAIT_CLIENT]);
    children.push(client);
    const port = Number(client.firstLine);
    const tw = await waitFor(
      async () => (await source.list()).sockets.find((s) => s.localPort === port && s.state === 'TIME_WAIT'),
      5000,
      'the TIME_WAIT socket',
    );
    expect([tw.uid, tw.user, tw.pid, tw.noOwner]).toEqual([null, null, null, 'closed']);
  });

  it('ids are unique and stable across polls', async () => {
    const a = await source.list();
    const b = await source.list();
    expect(new Set(a.sockets.map((s) => s.id)).size).toBe(a.sockets.length);
    const port = portOf(servers[1] as Server);
    expect(find(a.sockets, { localPort: port, protocol: 'tcp' }).id).toBe(find(b.sockets, { localPort: port, protocol: 'tcp' }).id);
  });

  it('shares a forked socket between parent and child: pids lists both, pid is the parent', async () => {
    // A parent that forks a worker inheriting its listening socket, as nginx's master and workers do.
    const script = `
import os, socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
pid = os.fork()
if pid == 0:
    time.sleep(600); os._exit(0)
print(s.getsockname()[1], pid, flush=True)
time.sleep(600)
`;
    const parent = await spawnReady('/usr/bin/python3.11', ['-c', script]);
    children.push(parent);
    const [port, workerPid] = parent.firstLine.split(' ').map(Number) as [number, number];
    try {
      const { sockets } = await source.list();
      const s = find(sockets, { localPort: port, state: 'LISTEN' });
      expect(s.pids).toEqual([parent.pid, workerPid].sort((x, y) => x - y));
      expect(s.pid).toBe(parent.pid);
      expect(s.process?.pid).toBe(parent.pid);
    } finally {
      process.kill(workerPid, 'SIGKILL');
    }
  });

  it.runIf(hasSs)('matches `ss -tunapeH`: every socket ss lists appears with the same owners', async () => {
    // Sockets come and go while two tools read: compare only those both ss runs saw, before and after ours.
    const ss1 = parseSs(execFileSync('ss', ['-tunapeH'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const { sockets } = await source.list();
    const ss2 = parseSs(execFileSync('ss', ['-tunapeH'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
    const key = (r: SsRow): string => `${r.protocol}|${r.localAddress}|${r.localPort}|${r.remoteAddress}|${r.remotePort}|${r.inode}|${r.state}|${r.pids}`;
    const later = new Set(ss2.map(key));
    const stable = ss1.filter((r) => later.has(key(r)));
    expect(stable.length).toBeGreaterThan(10);
    for (const r of stable) {
      const hits = sockets.filter(
        (s) =>
          s.protocol === r.protocol &&
          s.localPort === r.localPort &&
          s.remotePort === r.remotePort &&
          s.state === r.state &&
          sameAddress(r.localAddress, s.localAddress) &&
          sameAddress(r.remoteAddress, s.remoteAddress),
      );
      expect(hits.length, `ss socket ${key(r)}`).toBeGreaterThanOrEqual(1);
      expect(
        hits.some((h) => h.pids.join() === r.pids.join()),
        `owners of ${key(r)}: ours ${hits.map((h) => h.pids).join(' / ')}`,
      ).toBe(true);
    }
  });

  it.runIf(isRoot)('without privileges, a root-owned socket still shows uid and user and says its owner is hidden', async () => {
    // The CLI as user nobody: it cannot read root's /proc/<pid>/fd.
    const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'list', '--json', '--tcp', '--listen'], {
      encoding: 'utf8',
    });
    const { sockets } = JSON.parse(out) as { sockets: Socket[] };
    const s = find(sockets, { localPort: portOf(servers[1] as Server), state: 'LISTEN' });
    expect(s).toMatchObject({ uid: 0, user: 'root', pid: null, pids: [], process: null, ownerHidden: true });
  });
});
