import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AF_NETLINK, libc, SO_RCVTIMEO, SOCK_CLOEXEC, SOCK_DGRAM, SOL_SOCKET } from '../../../src/main/engine/native/libc';
import { inNetns, listNetNamespaces, NetnsError, nsInode, type NetNamespaces } from '../../../src/main/engine/netns';
import { emptyTables, parseSockstat } from '../../../src/main/engine/sources/procNet';
import type { Socket } from '../../../src/shared/model';
import { spawnReady, type Child } from '../../helpers/children';
import { canNetns, FakeProcTree, Netns } from '../../helpers/netns';
import { ROOT } from '../../helpers/paths';

describe('sockstat: which tables can be skipped', () => {
  it('skips only tables whose every socket kind is counted zero', () => {
    const idle = parseSockstat('sockets: used 8\nTCP: inuse 1 orphan 0 tw 0 alloc 1 mem 2\nUDP: inuse 0 mem 0\nTCP6: inuse 0\nUDP6: inuse 3\n');
    expect(idle.TCP).toEqual({ inuse: 1, orphan: 0, tw: 0, alloc: 1, mem: 2 });
    expect([...emptyTables(idle)].sort()).toEqual(['tcp6', 'udp']);
    // a TIME_WAIT of either family keeps both TCP tables
    const tw = parseSockstat('TCP: inuse 0 orphan 0 tw 4 alloc 0 mem 0\nTCP6: inuse 0\n');
    expect(emptyTables(tw).has('tcp6')).toBe(false);
    expect(emptyTables(tw).has('tcp')).toBe(false);
    // unknown or garbled counters: read everything
    expect(emptyTables(parseSockstat('garbage\nTCP6: inuse x\n')).size).toBe(0);
  });

  it('reads this machine’s counters', () => {
    const s = parseSockstat(readFileSync('/proc/net/sockstat', 'latin1'));
    expect(typeof s.TCP?.inuse).toBe('number');
  });
});

describe.runIf(canNetns)('in a network namespace of its own', () => {
  const ns = new Netns('pwtest');
  const kids: Child[] = [];
  const inNs = (...cmd: string[]): string[] => ns.exec(...cmd);
  const list = (): Socket[] => ns.list();

  beforeAll(() => ns.create());
  afterAll(async () => {
    await Promise.all(kids.map((k) => k.stop()));
    ns.remove();
  });

  it('an empty namespace lists nothing', () => {
    expect(list()).toEqual([]);
  });

  it('an IPv6-only and a UDP-only world are listed whole, owners included', async () => {
    const v6 = await spawnReady(
      'ip',
      inNs(
        '/usr/bin/python3.11',
        '-c',
        [
          'import socket,time',
          's=socket.socket(socket.AF_INET6); s.bind(("::1",0)); s.listen()',
          'u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("127.0.0.1",0))',
          'print(s.getsockname()[1], u.getsockname()[1], flush=True); time.sleep(600)',
        ].join('\n'),
      ),
    );
    kids.push(v6);
    const [tcpPort, udpPort] = v6.firstLine.split(' ').map(Number);
    const sockets = list();
    expect(sockets).toHaveLength(2);
    expect(sockets.find((s) => s.protocol === 'tcp')).toMatchObject({ family: 6, localAddress: '::1', localPort: tcpPort, state: 'LISTEN' });
    expect(sockets.find((s) => s.protocol === 'udp')).toMatchObject({ family: 4, localAddress: '127.0.0.1', localPort: udpPort, state: 'UNCONN' });
    for (const s of sockets) expect(s.process?.name).toBe('python3.11');
  });
});

/** Listens on 0.0.0.0:0 and prints its port and its socket's inode, then waits. */
const PY_LISTENER = [
  'import os,socket,time',
  's=socket.socket(); s.bind(("0.0.0.0",0)); s.listen()',
  'print(s.getsockname()[1], os.fstat(s.fileno()).st_ino, flush=True); time.sleep(600)',
].join('\n');

/** Socket inodes in a /proc/.../net/tcp text. */
const tcpInodes = (text: string): number[] =>
  text
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => Number(l.trim().split(/\s+/)[9]));

/** The TCP listeners (port, inode) that a NETLINK_SOCK_DIAG socket's dump lists: those of the socket's namespace. */
function diagListeners(fd: number): Array<{ port: number; inode: number }> {
  const c = libc();
  const timeout = Buffer.alloc(16);
  timeout.writeBigInt64LE(2n, 0); // a missing answer fails the test instead of hanging it
  expect(c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout)).toBe(0);
  const req = Buffer.alloc(16 + 56);
  req.writeUInt32LE(req.length, 0);
  req.writeUInt16LE(20, 4); // SOCK_DIAG_BY_FAMILY
  req.writeUInt16LE(0x301, 6); // NLM_F_REQUEST | NLM_F_DUMP
  req.writeUInt32LE(1, 8);
  req.writeUInt8(2, 16); // AF_INET
  req.writeUInt8(6, 17); // IPPROTO_TCP
  req.writeUInt32LE(1 << 10, 20); // LISTEN only
  const kernel = Buffer.alloc(12);
  kernel.writeUInt16LE(AF_NETLINK, 0);
  expect(c.sendto(fd, req, 0, kernel)).toBe(req.length);
  const buf = Buffer.alloc(64 * 1024);
  const out: Array<{ port: number; inode: number }> = [];
  for (;;) {
    const n = c.recv(fd, buf, 0);
    if (n < 0) throw new Error(`recv: errno ${c.errno()}`);
    for (let off = 0; off + 16 <= n;) {
      const len = buf.readUInt32LE(off);
      const type = buf.readUInt16LE(off + 4);
      if (type === 3) return out; // NLMSG_DONE
      if (type === 2) throw new Error(`netlink error ${buf.readInt32LE(off + 16)}`);
      if (len < 16 || off + len > n) throw new Error('truncated netlink message');
      if (type === 20) out.push({ port: buf.readUInt16BE(off + 16 + 4), inode: buf.readUInt32LE(off + 16 + 68) });
      off += (len + 3) & ~3;
    }
  }
}

const here = (): string => readlinkSync('/proc/thread-self/ns/net');

describe.runIf(canNetns)('network namespaces: listing and entering them', () => {
  const ns = Netns.unique('pw-t-');
  const empty = Netns.unique('pw-t-');
  const dirs: string[] = [];
  let py: Child | undefined;
  let port = 0;
  let inode = 0;

  beforeAll(async () => {
    ns.create();
    empty.create();
    py = await spawnReady('ip', ns.exec('/usr/bin/python3.11', '-c', PY_LISTENER));
    [port = 0, inode = 0] = py.firstLine.split(' ').map(Number);
  });
  afterAll(async () => {
    await py?.stop();
    ns.remove();
    empty.remove();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('lists the namespace with its process and its ip-netns name, and an empty one by name alone; ours apart', () => {
    const pid = py?.pid as number;
    // ip netns exec execs the command: the listener is that very process
    expect(readlinkSync(`/proc/${pid}/ns/net`)).toBe(ns.id());
    const got = listNetNamespaces();
    expect(got.self).toBe(readlinkSync('/proc/self/ns/net'));
    expect(got.others.map((n) => n.id)).not.toContain(got.self);
    // even root may be refused a link (here: the sandbox's own pid 1); never a reason to fail
    expect(Number.isInteger(got.unreadable)).toBe(true);
    expect(got.others.find((n) => n.id === ns.id())).toEqual({
      id: ns.id(),
      inode: nsInode(ns.id()),
      pid,
      pids: 1,
      path: ns.path,
      name: ns.name,
      container: null,
    });
    expect(got.others.find((n) => n.id === empty.id())).toEqual({
      id: empty.id(),
      inode: nsInode(empty.id()),
      pid: null,
      pids: 0,
      path: empty.path,
      name: empty.name,
      container: null,
    });
  });

  it('takes no plain file in a netns directory for a namespace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-netnsdir-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'stale'), '');
    expect(listNetNamespaces('/proc', dir).others.filter((n) => n.name !== null)).toEqual([]);
  });

  it('inside, this thread sees the namespace’s own socket table; outside again, ours', () => {
    const home = here();
    const inside = inNetns(ns.path, () => ({ ns: here(), tcp: readFileSync('/proc/thread-self/net/tcp', 'latin1') }));
    expect(inside.ns).toBe(ns.id());
    expect(tcpInodes(inside.tcp)).toContain(inode);
    expect(here()).toBe(home);
    expect(tcpInodes(readFileSync('/proc/thread-self/net/tcp', 'latin1'))).not.toContain(inode);
    // a process's link works as well as the bind mount
    expect(inNetns(`/proc/${py?.pid}/ns/net`, here, ns.id())).toBe(ns.id());
  });

  it('a sock_diag socket made inside keeps listing that namespace’s sockets from home', () => {
    const c = libc();
    const open = (): number => {
      const fd = c.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, 4);
      if (fd < 0) throw new Error(`socket: errno ${c.errno()}`);
      return fd;
    };
    const foreign = inNetns(ns.path, open, ns.id());
    const local = open();
    try {
      expect(here()).toBe(readlinkSync('/proc/self/ns/net'));
      expect(diagListeners(foreign)).toContainEqual({ port, inode });
      expect(diagListeners(local).map((l) => l.inode)).not.toContain(inode);
      // and an empty namespace has no listeners at all
      const none = inNetns(empty.path, open);
      try {
        expect(diagListeners(none)).toEqual([]);
      } finally {
        c.close(none);
      }
    } finally {
      c.close(foreign);
      c.close(local);
    }
  });

  it('comes home when fn throws, and refuses bad paths and the wrong namespace with clear errors', () => {
    const home = here();
    expect(() =>
      inNetns(ns.path, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(here()).toBe(home);

    expect(() => inNetns('/run/netns/pw-t-no-such', here)).toThrow(/cannot open network namespace \/run\/netns\/pw-t-no-such: ENOENT/);
    expect(() => inNetns('/proc/self/ns/uts', here)).toThrow(/cannot enter network namespace \/proc\/self\/ns\/uts: EINVAL.*not a network namespace/);
    let called = false;
    const wrong = (): unknown => inNetns(ns.path, () => (called = true), empty.id());
    expect(wrong).toThrow(NetnsError);
    expect(wrong).toThrow(`${ns.path} is ${ns.id()}, not ${empty.id()}`);
    expect(called).toBe(false);
    expect(here()).toBe(home);
  });

  it('as nobody: counts what it cannot read, sees pinned namespaces by name only, and cannot enter', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-netns-nobody-'));
    dirs.push(dir);
    chmodSync(dir, 0o755);
    // the repository may sit in a 0700 directory: nobody gets a bundle and the koffi it loads, copied here
    buildSync({
      stdin: {
        contents: `
          import { inNetns, listNetNamespaces } from ${JSON.stringify(join(ROOT, 'src/main/engine/netns.ts'))};
          const [proc, run, ...paths] = process.argv.slice(2);
          const out = { real: listNetNamespaces(), fake: listNetNamespaces(proc, run), enter: {} };
          for (const p of paths) {
            try { out.enter[p] = inNetns(p, () => 'entered'); } catch (e) { out.enter[p] = { code: e.code, errno: e.errno, message: e.message }; }
          }
          console.log(JSON.stringify(out));`,
        resolveDir: ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: join(dir, 'netns.cjs'),
      logLevel: 'error',
    });
    const koffi = join(ROOT, 'node_modules', 'koffi');
    const triplet = `linux_${process.arch}`;
    mkdirSync(join(dir, 'node_modules', 'koffi', 'build', 'koffi', triplet), { recursive: true });
    for (const f of ['package.json', 'index.js', `build/koffi/${triplet}/koffi.node`]) copyFileSync(join(koffi, f), join(dir, 'node_modules', 'koffi', f));

    // a fake /proc whose locked ns directories nobody cannot search, as procfs refuses other users' links
    const t = new FakeProcTree(join(dir, 'fake'));
    const blue = t.pin('blue');
    t.process(1, t.selfId, { locked: true });
    t.process(2, t.selfId, { locked: true, kthread: true, comm: 'kthreadd' });
    t.process(3, 'net:[4026539001]', { locked: true, kthread: true, comm: 'odd) name' });
    t.process(4, 'net:[4026539002]');
    t.process(5, blue, { locked: true });

    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(dir, 'netns.cjs'), t.proc, t.netnsDir, '/proc/self/ns/net', ns.path],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 15_000,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as {
      real: NetNamespaces;
      fake: NetNamespaces;
      enter: Record<string, { code: string; errno: number; message: string } | undefined>;
    };

    // root's processes (pid 1 among them) are unreadable; the python listener is root's: its namespace is seen only through /run/netns
    expect(out.real.self).toBe(readlinkSync('/proc/self/ns/net'));
    expect(out.real.unreadable).toBeGreaterThan(0);
    expect(out.real.others.find((n) => n.id === ns.id())).toMatchObject({ pid: null, pids: 0, name: ns.name, path: ns.path });

    // kernel threads are not counted; locked user processes are, their namespaces unknown
    expect(out.fake.unreadable).toBe(2);
    expect(out.fake.others).toEqual(
      [
        { id: blue, inode: nsInode(blue), pid: null, pids: 0, path: `${t.netnsDir}/blue`, name: 'blue', container: null },
        { id: 'net:[4026539002]', inode: 4026539002, pid: 4, pids: 1, path: `${t.proc}/4/ns/net`, name: null, container: null },
      ].sort((a, b) => (a.inode as number) - (b.inode as number)),
    );

    // even our own namespace cannot be entered without CAP_SYS_ADMIN
    expect(out.enter['/proc/self/ns/net']).toMatchObject({ code: 'enter', errno: 1 });
    expect(out.enter['/proc/self/ns/net']?.message).toMatch(/EPERM.*needs root/);
    // a pinned one: iproute2 makes the file 0444 (older ones 0), so it fails to open (EACCES) or to enter (EPERM)
    const pinned = out.enter[ns.path];
    expect([
      ['open', 13],
      ['enter', 1],
    ]).toContainEqual([pinned?.code, pinned?.errno]);
    expect(pinned?.message).toContain(ns.path);
  });
});
