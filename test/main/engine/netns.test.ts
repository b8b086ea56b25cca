import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Libc } from '../../../src/main/engine/native/libc';
import { containerIdFromCgroup, inNetns, listNetNamespaces, netnsLabel, NetnsError, nsInode } from '../../../src/main/engine/netns';
import { FakeProcTree } from '../../helpers/netns';

/** A libc whose setns can be made to fail, recording which fds are open, so every path can be checked for leaks. */
const fake = vi.hoisted(() => {
  const state = {
    open: new Set<number>(),
    next: 10,
    errno: 0,
    failOpen: new Map<string, number>(),
    /** errno for the n-th setns call (0-based); absent: it succeeds */
    failSetns: new Map<number, number>(),
    setnsCalls: 0,
    paths: new Map<number, string>(),
    reset(): void {
      state.open.clear();
      state.failOpen.clear();
      state.failSetns.clear();
      state.setnsCalls = 0;
      state.paths.clear();
    },
  };
  return state;
});

vi.mock('../../../src/main/engine/native/libc', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/main/engine/native/libc')>();
  const lib: Partial<Libc> = {
    open(path) {
      const e = fake.failOpen.get(path);
      if (e) {
        fake.errno = e;
        return -1;
      }
      const fd = fake.next++;
      fake.open.add(fd);
      fake.paths.set(fd, path);
      return fd;
    },
    close(fd) {
      fake.open.delete(fd);
      return 0;
    },
    setns(fd) {
      if (!fake.open.has(fd)) throw new Error(`setns on a closed fd ${fd}`);
      const e = fake.failSetns.get(fake.setnsCalls++);
      if (e) {
        fake.errno = e;
        return -1;
      }
      return 0;
    },
    errno: () => fake.errno,
  };
  return { ...real, libc: () => lib as Libc };
});

const HEX = 'c0ffee00ba5eba11' + 'd0d0cafe'.repeat(6);
const HEX2 = '0123456789abcdef'.repeat(4);
const ID = HEX.slice(0, 12);

describe('containerIdFromCgroup', () => {
  const cases: Array<[string, string, string | null]> = [
    [
      'docker, cgroup v1 (cgroupfs driver)',
      `12:pids:/docker/${HEX}\n11:memory:/docker/${HEX}\n10:cpu,cpuacct:/docker/${HEX}\n1:name=systemd:/docker/${HEX}\n0::/system.slice/containerd.service\n`,
      ID,
    ],
    ['docker, cgroup v2 (systemd driver)', `0::/system.slice/docker-${HEX}.scope\n`, ID],
    ['docker, cgroup v1 (systemd driver)', `5:devices:/system.slice/docker-${HEX}.scope\n1:name=systemd:/system.slice/docker-${HEX}.scope\n`, ID],
    [
      'containerd (CRI), cgroup v2',
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b3c4d_5e6f_7a8b_9c0d_1e2f3a4b5c6d.slice/cri-containerd-${HEX}.scope\n`,
      ID,
    ],
    ['kubepods, cgroup v1 (cgroupfs driver)', `11:cpu,cpuacct:/kubepods/burstable/pod1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d/${HEX}\n`, ID],
    ['kubepods, guaranteed QoS (no class directory)', `4:memory:/kubepods/pod1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d/${HEX}\n`, ID],
    ['cri-o', `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod42.slice/crio-${HEX}.scope\n`, ID],
    ['podman as root', `0::/machine.slice/libpod-${HEX}.scope\n`, ID],
    ['podman rootless, split cgroups', `0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${HEX}.scope/container\n`, ID],
    ['a container in a container: the inner one', `0::/docker/${HEX2}/docker/${HEX}\n`, ID],
    ['a path holding a colon', `0::/odd:name/docker-${HEX}.scope\n`, ID],
    ['podman’s conmon is not the container', `0::/machine.slice/libpod-conmon-${HEX}.scope\n`, null],
    ['a desktop session', '0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-1.scope\n', null],
    ['the root cgroup', '0::/\n', null],
    ['a 32-hex path of some other manager', '4:memory:/process_api/c2d081cdcd3197b4449ad76936fc8c23\n0::/\n', null],
    ['64 hex not under a runtime', `0::/system.slice/${HEX}\n`, null],
    ['upper-case hex', `0::/system.slice/docker-${HEX.toUpperCase()}.scope\n`, null],
    ['63 hex', `0::/system.slice/docker-${HEX.slice(1)}.scope\n`, null],
    ['nothing', '', null],
    ['garbage', 'docker-\n::\n/docker/\n', null],
  ];
  it.each(cases)('%s', (_what, text, want) => {
    expect(containerIdFromCgroup(text)).toBe(want);
  });
});

describe('small helpers', () => {
  it('nsInode reads the inode of a net link and nothing else', () => {
    expect(nsInode('net:[4026531840]')).toBe(4026531840);
    expect(nsInode('mnt:[4026531840]')).toBeNull();
    expect(nsInode('net:[]')).toBeNull();
    expect(nsInode('net:[12] ')).toBeNull();
  });

  it('netnsLabel: a name, else a container, else the id', () => {
    expect(netnsLabel({ id: 'net:[7]', name: 'blue', container: 'abc' })).toBe('blue (net:[7])');
    expect(netnsLabel({ id: 'net:[7]', name: null, container: 'c0ffee00ba5e' })).toBe('container c0ffee00ba5e (net:[7])');
    expect(netnsLabel({ id: 'net:[7]', name: null, container: null })).toBe('net:[7]');
  });
});

describe('listNetNamespaces on a fake /proc', () => {
  const dirs: string[] = [];
  const tree = (): FakeProcTree => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-fakeproc-'));
    dirs.push(dir);
    return new FakeProcTree(dir);
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('groups processes by namespace, skipping our own; the lowest pid stands for each', () => {
    const t = tree();
    t.process(1, t.selfId);
    t.process(2, t.selfId, { kthread: true, comm: 'kthreadd' });
    t.process(900, 'net:[4026532500]', { cgroup: `0::/system.slice/docker-${HEX}.scope\n` });
    t.process(77, 'net:[4026532500]', { cgroup: `0::/system.slice/docker-${HEX}.scope\n` });
    t.process(1200, 'net:[4026532500]');
    t.process(300, 'net:[4026532400]');
    const got = listNetNamespaces(t.proc, t.netnsDir);
    expect(got.self).toBe(t.selfId);
    expect(got.unreadable).toBe(0);
    expect(got.others).toEqual([
      { id: 'net:[4026532400]', inode: 4026532400, pid: 300, pids: 1, path: `${t.proc}/300/ns/net`, name: null, container: null },
      { id: 'net:[4026532500]', inode: 4026532500, pid: 77, pids: 3, path: `${t.proc}/77/ns/net`, name: null, container: ID },
    ]);
  });

  it('names namespaces pinned in /run/netns, lists those with no process, and leaves out an alias of ours', () => {
    const t = tree();
    const blue = t.pin('blue');
    t.alias('azure', 'blue');
    const empty = t.pin('empty');
    t.process(10, t.selfId);
    t.process(40, blue);
    t.process(41, blue);
    // a name for our own namespace (`ip netns attach host 1`)
    t.process(12, t.selfId);
    const got = listNetNamespaces(t.proc, t.netnsDir);
    const byName = new Map(got.others.map((n) => [n.name, n]));
    expect(got.others).toHaveLength(2);
    // two names pin one namespace: the first by name
    expect(byName.get('azure')).toEqual({ id: blue, inode: nsInode(blue), pid: 40, pids: 2, path: `${t.netnsDir}/azure`, name: 'azure', container: null });
    expect(byName.get('empty')).toEqual({ id: empty, inode: nsInode(empty), pid: null, pids: 0, path: `${t.netnsDir}/empty`, name: 'empty', container: null });
    expect(got.others.map((n) => n.inode)).toEqual([...got.others.map((n) => n.inode)].sort((a, b) => a - b));
  });

  it('never throws: vanished processes, odd links, no /run/netns, no /proc at all', () => {
    const t = tree();
    t.process(5, null); // exited between readdir and readlink, or a zombie
    t.process(6, 'mnt:[4026531841]');
    t.process(7, 'garbage');
    t.process(8, 'net:[4026532600]', { cgroup: '' });
    const got = listNetNamespaces(t.proc, join(t.root, 'nowhere'));
    expect(got).toEqual({
      self: t.selfId,
      others: [{ id: 'net:[4026532600]', inode: 4026532600, pid: 8, pids: 1, path: `${t.proc}/8/ns/net`, name: null, container: null }],
      unreadable: 0,
    });
    expect(listNetNamespaces(join(t.root, 'noproc'), join(t.root, 'nowhere'))).toEqual({ self: null, others: [], unreadable: 0 });
  });

  it('a few hundred processes in a few dozen namespaces', () => {
    const t = tree();
    for (let pid = 100; pid < 400; pid++) t.process(pid, pid % 10 === 0 ? `net:[${4026533000 + (pid % 37)}]` : t.selfId);
    const got = listNetNamespaces(t.proc, t.netnsDir);
    expect(got.others.reduce((n, o) => n + o.pids, 0)).toBe(30);
    for (const o of got.others)
      expect(o.pid).toBe(Math.min(...Array.from({ length: 300 }, (_, i) => i + 100).filter((p) => p % 10 === 0 && 4026533000 + (p % 37) === o.inode)));
  });
});

describe('inNetns: file descriptors and the way home, on a fake libc', () => {
  beforeEach(() => fake.reset());
  const EPERM = 1;
  const ENOENT = 2;
  const EINVAL = 22;

  it('runs fn in between two setns calls and closes both fds', () => {
    expect(inNetns('/run/netns/x', () => fake.setnsCalls)).toBe(1);
    expect(fake.setnsCalls).toBe(2);
    expect(fake.open.size).toBe(0);
  });

  it('a throwing fn: goes home, closes, rethrows the same error', () => {
    const boom = new Error('boom');
    expect(() =>
      inNetns('/run/netns/x', () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(fake.setnsCalls).toBe(2);
    expect(fake.open.size).toBe(0);
  });

  it('a path that cannot be opened: never leaves, names the path and errno', () => {
    fake.failOpen.set('/proc/99/ns/net', ENOENT);
    const fn = vi.fn();
    const e = catchErr(() => inNetns('/proc/99/ns/net', fn));
    expect(e).toMatchObject({ code: 'open', errno: ENOENT });
    expect(e.message).toContain('/proc/99/ns/net');
    expect(e.message).toContain('ENOENT');
    expect(fn).not.toHaveBeenCalled();
    expect(fake.setnsCalls).toBe(0);
    expect(fake.open.size).toBe(0);
  });

  it('setns refused: a clear error naming the namespace and EPERM, fds closed', () => {
    fake.failSetns.set(0, EPERM);
    const e = catchErr(() => inNetns('/run/netns/blue', () => 1));
    expect(e).toMatchObject({ code: 'enter', errno: EPERM });
    expect(e.message).toMatch(/\/run\/netns\/blue.*EPERM.*root/);
    expect(fake.open.size).toBe(0);
    fake.reset();
    fake.failSetns.set(0, EINVAL);
    expect(catchErr(() => inNetns('/etc/hostname', () => 1)).message).toContain('not a network namespace');
  });

  it('no way home: stranded, with fn’s own error as the cause, fds closed', () => {
    fake.failSetns.set(1, EPERM);
    const e = catchErr(() => inNetns('/run/netns/blue', () => 1));
    expect(e).toMatchObject({ code: 'stranded', errno: EPERM });
    expect(e.message).toMatch(/stranded.*\/run\/netns\/blue/);
    expect(fake.open.size).toBe(0);

    fake.reset();
    fake.failSetns.set(1, EPERM);
    const boom = new Error('boom');
    const e2 = catchErr(() =>
      inNetns('/run/netns/blue', () => {
        throw boom;
      }),
    );
    expect(e2.code).toBe('stranded');
    expect(e2.cause).toBe(boom);
  });

  it('our own namespace cannot be opened: nothing happens', () => {
    fake.failOpen.set('/proc/thread-self/ns/net', 24);
    expect(catchErr(() => inNetns('/run/netns/blue', () => 1))).toMatchObject({ code: 'home', errno: 24 });
    expect(fake.setnsCalls).toBe(0);
  });
});

function catchErr(fn: () => unknown): NetnsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(NetnsError);
    return e as NetnsError;
  }
  throw new Error('did not throw');
}
