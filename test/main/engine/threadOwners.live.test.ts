import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sameFdTable } from '../../../src/main/engine/native/libc';
import { OwnerIndex, ownTable } from '../../../src/main/engine/owners';
import { OneShotWalk } from '../../../src/main/engine/sources/procfsWalk';
import { ProcfsSource } from '../../../src/main/engine/sources/procfs';
import type { Socket } from '../../../src/shared/model';
import { PYTHON, spawnReady, type Child } from '../../helpers/children';
import { canNetns, Netns } from '../../helpers/netns';

/**
 * A second thread that takes a descriptor table of its own (unshare(CLONE_FILES)), then listens on 127.0.0.1;
 * the main thread only sleeps. Prints "PID TID PORT"; each line on stdin makes the thread open one more
 * listener and print its port. With the argument "later" it first shares the table and listens on nothing
 * (PORT 0) until the line "unshare".
 */
const UNSHARED_THREAD = `
import ctypes, os, socket, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
socks = []
def unshare():
    if libc.unshare(0x400) != 0: raise OSError(ctypes.get_errno(), "unshare(CLONE_FILES)")
def listen():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); socks.append(s)
    return s.getsockname()[1]
def thread():
    if sys.argv[1:] == ["later"]:
        print(os.getpid(), threading.get_native_id(), 0, flush=True)
    else:
        unshare()
        print(os.getpid(), threading.get_native_id(), listen(), flush=True)
    for line in sys.stdin:
        if line.strip() == "unshare": unshare()
        print(listen(), flush=True)
threading.Thread(target=thread).start()
while True: time.sleep(60)
`;

/**
 * A second thread holds a listener while the main thread ends with pthread_exit: the leader is a zombie with
 * no descriptors, the process lives on. Prints "PID TID PORT" once the leader is a zombie; stdin as above.
 */
const ZOMBIE_LEADER = `
import ctypes, os, socket, sys, threading, time
socks = []
ready = threading.Event()
def listen():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); socks.append(s)
    return s.getsockname()[1]
def thread():
    port = listen()
    ready.set()
    while True:
        with open("/proc/%d/stat" % os.getpid()) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z": break
        time.sleep(0.01)
    print(os.getpid(), threading.get_native_id(), port, flush=True)
    for line in sys.stdin:
        print(listen(), flush=True)
threading.Thread(target=thread).start()
ready.wait()
ctypes.CDLL(None).pthread_exit(None)
`;

const kids: Child[] = [];
const cleanups: Array<() => void> = [];
afterAll(async () => {
  await Promise.all(kids.map((k) => k.stop()));
  for (const c of cleanups) c();
});

interface Threaded {
  pid: number;
  tid: number;
  port: number;
  procRoot: string;
  /** Has the thread open one more listener (after unshare(CLONE_FILES) with "unshare"); resolves to its port. */
  open(command?: 'unshare'): Promise<number>;
}

/**
 * Starts a script above. Other test files compare this machine's sockets with ss, which cannot see owners that
 * only a thread's table holds: so the child listens in a network namespace of its own, read through a proc root
 * whose `net` is its and whose processes are this machine's (every pid now, linked to /proc). Without network
 * namespaces (not root), it listens here and is read from /proc itself.
 */
async function start(script: string, args: string[] = []): Promise<Threaded> {
  let ns: Netns | null = null;
  if (canNetns) {
    const made = Netns.unique('pw-thr-');
    made.create();
    cleanups.push(() => made.remove());
    ns = made;
  }
  const python = [PYTHON, '-u', '-c', script, ...args];
  const c = await spawnReady(ns ? 'ip' : PYTHON, ns ? ns.exec(...python) : python.slice(1), { stdin: true });
  kids.push(c);
  c.proc.stdin?.on('error', () => {});
  const [pid, tid, port] = c.firstLine.split(' ').map(Number) as [number, number, number];
  let procRoot = '/proc';
  if (ns) {
    procRoot = mkdtempSync(join(tmpdir(), 'pw-proc-'));
    cleanups.push(() => rmSync(procRoot, { recursive: true, force: true }));
    // the thread's: a zombie leader has no network namespace any more
    symlinkSync(`/proc/${pid}/task/${tid}/net`, join(procRoot, 'net'));
    for (const name of readdirSync('/proc')) if (/^\d+$/.test(name) || name === 'stat') symlinkSync(`/proc/${name}`, join(procRoot, name));
  }
  const lines: Array<(line: string) => void> = [];
  let buffer = '';
  c.proc.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.shift()?.(line);
    }
  });
  const open = (command = 'open'): Promise<number> =>
    new Promise((resolve) => {
      lines.push((line) => resolve(Number(line)));
      c.proc.stdin?.write(`${command}\n`);
    });
  return { pid, tid, port, procRoot, open };
}

const listener = (sockets: Socket[], port: number): Socket | undefined => sockets.find((s) => s.localPort === port && s.state === 'LISTEN');

/** Inodes in the TCP and UDP tables under a proc root, as a source hands them to the index. */
function tableInodes(procRoot: string): number[] {
  return ['tcp', 'tcp6', 'udp', 'udp6'].flatMap((f) =>
    readFileSync(`${procRoot}/net/${f}`, 'latin1')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => Number(l.trim().split(/\s+/)[9])),
  );
}

/** Inode of the socket listening on 127.0.0.1:port. */
function inodeOf(procRoot: string, port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const line = readFileSync(`${procRoot}/net/tcp`, 'latin1')
    .split('\n')
    .find((l) => l.includes(`0100007F:${hex} 00000000:0000 0A`));
  if (!line) throw new Error(`no listener on ${port}`);
  return Number(line.trim().split(/\s+/)[9]);
}

describe.each([
  ['a thread with a descriptor table of its own (unshare(CLONE_FILES))', UNSHARED_THREAD],
  ['a process whose main thread exited (a zombie leader) while another holds the socket', ZOMBIE_LEADER],
])('sockets held only by %s', (_what, script) => {
  it('are listed with the process as owner, on the first poll and the steady ones after', async () => {
    const t = await start(script);
    const source = new ProcfsSource({ helperThreads: false, procRoot: t.procRoot });
    const first = listener(source.listSync().sockets, t.port);
    expect(first).toMatchObject({ pid: t.pid, pids: [t.pid], ownerHidden: false, process: { pid: t.pid } });
    // details come from the process, even when its leader is a zombie that has no exe or cmdline any more
    expect(first?.process?.exe).toMatch(/python/);
    expect(first?.process?.cmdline.join(' ')).toMatch(/python.* -c /);
    expect(listener(source.listSync().sockets, t.port)).toMatchObject({ pid: t.pid, pids: [t.pid] });
    const second = await t.open();
    expect(listener(source.listSync().sockets, second)).toMatchObject({ pid: t.pid, pids: [t.pid] });
    expect(listener(source.listSync().sockets, t.port)).toMatchObject({ pid: t.pid, pids: [t.pid] });
  });

  it('are found by a first poll shared with the walker thread', async () => {
    const t = await start(script);
    const source = new ProcfsSource({ procRoot: t.procRoot });
    try {
      expect(listener((await source.list()).sockets, t.port)).toMatchObject({ pid: t.pid, pids: [t.pid] });
      expect(listener((await source.list()).sockets, t.port)).toMatchObject({ pid: t.pid, pids: [t.pid] });
    } finally {
      source.close();
    }
  });

  it("are found by a one-off listing's walk (portwatch list), alone and with its helper thread", async () => {
    const t = await start(script);
    const inode = inodeOf(t.procRoot, t.port);
    for (const helper of [false, true]) {
      const walk = new OneShotWalk(t.procRoot, helper);
      expect(walk.finish(tableInodes(t.procRoot)).owners.get(inode), `helper ${helper}`).toEqual([t.pid]);
    }
  });

  it('are found by the walk of list --listen, which stops once every listener has an owner', async () => {
    const t = await start(script);
    const inode = inodeOf(t.procRoot, t.port);
    const walk = new OneShotWalk(t.procRoot, false, { untilFound: true });
    expect(walk.finish([inode]).owners.get(inode)).toEqual([t.pid]);
  });

  // counts only hold in a namespace of its own: here other tests' sockets come and go, and may send it searching
  it.runIf(canNetns)('are not hunted for again: steady polls check the remembered table, and find its new sockets', async () => {
    const t = await start(script);
    const index = new OwnerIndex(t.procRoot, Infinity);
    expect(index.resolve(tableInodes(t.procRoot)).get(inodeOf(t.procRoot, t.port))).toEqual([t.pid]);
    expect(index.stats.threadsChecked).toBeGreaterThan(0);

    index.resolve(tableInodes(t.procRoot));
    expect(index.stats.threadsChecked).toBe(0);
    expect(index.stats.readlinksByPid.get(t.pid) ?? 0).toBe(0);

    // a new socket in the thread's table changes its descriptor count: re-listed, not hunted for
    const port = await t.open();
    expect(index.resolve(tableInodes(t.procRoot)).get(inodeOf(t.procRoot, port))).toEqual([t.pid]);
    expect(index.stats.threadsChecked).toBe(0);
    expect(index.stats.readlinksByPid.get(t.pid)).toBeLessThanOrEqual(1);
    expect(index.stats.fullWalk).toBe(false);
  });
});

describe('a thread that takes a table of its own after the first poll', () => {
  it.runIf(canNetns)('is found by the search a newly unowned socket starts, then kept up without searching', async () => {
    const t = await start(UNSHARED_THREAD, ['later']);
    const index = new OwnerIndex(t.procRoot, Infinity);
    index.resolve(tableInodes(t.procRoot));
    const port = await t.open('unshare');
    expect(index.resolve(tableInodes(t.procRoot)).get(inodeOf(t.procRoot, port))).toEqual([t.pid]);
    expect(index.stats.fullWalk).toBe(false);
    expect(index.stats.threadsChecked).toBeGreaterThan(0);
    index.resolve(tableInodes(t.procRoot));
    expect(index.stats.threadsChecked).toBe(0);
    expect(index.resolve(tableInodes(t.procRoot)).get(inodeOf(t.procRoot, port))).toEqual([t.pid]);
  });
});

/**
 * Sixteen threads sharing one table of 300 descriptors while one of them opens and closes a file without pause:
 * the table's count changes between any two reads of it. Prints its pid and the threads' tids.
 */
const BUSY_SHARED = `
import os, threading, time
files = [open("/dev/null") for _ in range(300)]
tids = []
def churn():
    tids.append(threading.get_native_id())
    while True:
        # as long open as closed: a read of the count finds either, at random
        fd = os.open("/dev/null", os.O_RDONLY)
        sum(range(300))
        os.close(fd)
        sum(range(300))
def idle():
    tids.append(threading.get_native_id())
    while True: time.sleep(60)
threading.Thread(target=churn, daemon=True).start()
for _ in range(15): threading.Thread(target=idle, daemon=True).start()
while len(tids) < 16: time.sleep(0.01)
print(os.getpid(), *tids, flush=True)
while True: time.sleep(60)
`;

describe('which thread has a table of its own, as the kernel says (kcmp)', () => {
  it("tells a thread that unshared its table from one that shares the leader's, and says nothing of a task gone", async () => {
    const t = await start(UNSHARED_THREAD, ['later']);
    expect(sameFdTable(t.pid, t.tid)).toBe(true);
    expect(ownTable(t.pid, t.tid, [])).toBe(false);
    await t.open('unshare');
    expect(sameFdTable(t.pid, t.tid)).toBe(false);
    expect(ownTable(t.pid, t.tid, [])).toBe(true);
    // a table already known for the process (the thread's own, known by its tid) is not a new one
    expect(ownTable(t.pid, t.tid, [t.tid])).toBe(false);
    expect(sameFdTable(t.pid, 2 ** 22 + 1)).toBeNull();
  });

  it('a busy process whose table changes all the time is not read again thread by thread while an owner is hunted for', async () => {
    const c = await spawnReady(PYTHON, ['-u', '-c', BUSY_SHARED]);
    kids.push(c);
    const [pid] = c.firstLine.split(' ').map(Number) as [number];
    const index = new OwnerIndex('/proc', Infinity);
    // a socket nobody holds (an inode no table has): the first poll hunts for it through every thread
    index.resolve([...tableInodes('/proc'), 2 ** 32 - 2]);
    expect(index.stats.threadsChecked).toBeGreaterThan(0);
    // its table read once, as the leader's: about 300 descriptors, not 300 for each of its sixteen threads
    expect(index.stats.readlinksByPid.get(pid) ?? 0).toBeLessThan(2 * 300);
  });
});
