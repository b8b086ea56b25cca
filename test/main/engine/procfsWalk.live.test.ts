import { afterEach, describe, expect, it, vi } from 'vitest';
import { OwnerIndex } from '../../../src/main/engine/owners';
import { OneShotWalk, startWalk } from '../../../src/main/engine/sources/procfsWalk';
import { PYTHON, spawnReady, type Child } from '../../helpers/children';
import { canNetns, Netns } from '../../helpers/netns';

/**
 * A python child with a table large enough to be read in chunks by number (600 sockets), holes in it (40 of
 * them closed), a listener past its count (dup2 to 3000: found only by listing), and a forked copy of it all:
 * every socket has two owners (the copy ends with it). It prints its pid, the copy's, and its sockets' inodes.
 */
const SCRIPT = `
import os, socket, sys, json
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(600)]
for s in socks[200:240]: s.close()
socks = socks[:200] + socks[240:]
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
os.dup2(l.fileno(), 3000)
l.close()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    # the copy lives as long as this process: the pipe's end comes when it goes
    os.close(w)
    os.read(r, 1)
    os._exit(0)
os.close(r)
inodes = [os.fstat(s.fileno()).st_ino for s in socks] + [os.fstat(3000).st_ino]
sys.stdout.write(json.dumps({"pid": os.getpid(), "copy": pid, "inodes": inodes}) + "\\n"); sys.stdout.flush()
for line in sys.stdin: pass
`;

/**
 * A server as `list --listen` meets one: a listener opened first (a low descriptor number), then 600
 * connection-like sockets (a table read by number), and a forked worker that inherits it all. Prints its pid,
 * the worker's, the listener's inode and the others'.
 */
const SERVER = `
import os, socket, sys, json
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(600)]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    os.read(r, 1)
    os._exit(0)
os.close(r)
others = [os.fstat(s.fileno()).st_ino for s in socks]
sys.stdout.write(json.dumps({"pid": os.getpid(), "copy": pid, "listener": os.fstat(l.fileno()).st_ino, "inodes": others}) + "\\n"); sys.stdout.flush()
for line in sys.stdin: pass
`;

let child: Child | null = null;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await child?.stop();
  child = null;
  for (const c of cleanups.splice(0)) c();
});

async function start(): Promise<{ pid: number; copy: number; inodes: number[] }> {
  child = await spawnReady(PYTHON, ['-c', SCRIPT], { stdin: true });
  return JSON.parse(child.firstLine) as { pid: number; copy: number; inodes: number[] };
}

async function startServer(ns?: Netns): Promise<{ pid: number; copy: number; listener: number; inodes: number[] }> {
  child = ns ? await spawnReady('ip', ns.exec(PYTHON, '-c', SERVER), { stdin: true }) : await spawnReady(PYTHON, ['-c', SERVER], { stdin: true });
  return JSON.parse(child.firstLine) as { pid: number; copy: number; listener: number; inodes: number[] };
}

describe('OneShotWalk (live /proc)', () => {
  it('finds both owners of every socket, walking alone (the chunks by number, the holes, the one past the count)', async () => {
    const { pid, copy, inodes } = await start();
    const walk = new OneShotWalk('/proc', false);
    const { owners } = walk.finish(inodes);
    expect(walk.stats().byHelper).toBe(0);
    for (const inode of inodes) expect(owners.get(inode), `inode ${inode}`).toEqual([pid, copy].sort((a, b) => a - b));
    // the same as the incremental index's full read
    const index = new OwnerIndex('/proc', Infinity).resolve(inodes);
    for (const inode of inodes) expect(owners.get(inode)).toEqual(index.get(inode));
  });

  it('finds the same when its helper thread walks every chunk', async () => {
    const { pid, copy, inodes } = await start();
    const walk = new OneShotWalk('/proc', true);
    // this thread takes no chunk before the helper has found none left
    await vi.waitFor(() => expect(walk.stats().helperIdle).toBe(true), { timeout: 20_000, interval: 20 });
    const { owners } = walk.finish(inodes);
    const stats = walk.stats();
    expect(stats.byHelper).toBe(stats.chunks);
    for (const inode of inodes) expect(owners.get(inode), `inode ${inode}`).toEqual([pid, copy].sort((a, b) => a - b));
  });

  it('started early (startWalk): a helper booted before the walk walks for it; too few descriptors start no thread', async () => {
    const { pid, copy, inodes } = await start();
    expect(startWalk('/proc', Infinity).helper).toBeNull();
    const early = startWalk('/proc', 1);
    expect(early.helper).not.toBeNull();
    const walk = new OneShotWalk('/proc', true, { start: early });
    await vi.waitFor(() => expect(walk.stats().helperIdle).toBe(true), { timeout: 20_000, interval: 20 });
    const { owners } = walk.finish(inodes);
    expect(walk.stats().byHelper).toBe(walk.stats().chunks);
    for (const inode of inodes) expect(owners.get(inode), `inode ${inode}`).toEqual([pid, copy].sort((a, b) => a - b));
  });

  it('told what it looks for (list --listen), stops once each has an owner, with both owners of a forked listener', async () => {
    const { pid, copy, listener, inodes } = await startServer();
    const walk = new OneShotWalk('/proc', false, { untilFound: true });
    const { owners } = walk.finish([listener]);
    expect(owners.get(listener)).toEqual([pid, copy].sort((a, b) => a - b));
    // the worker inherited the listener at the server's number, in the first window of both large tables
    expect(walk.stats().stoppedEarly).toBe(true);
    // the tail of the server's table was not read: its other sockets are not known
    expect(inodes.filter((i) => owners.has(i)).length).toBeLessThan(inodes.length);
  });

  it('told what it looks for, still finds a listener past its table count (the whole walk, then the listing)', async () => {
    const { pid, copy, inodes } = await start();
    const listener = inodes[inodes.length - 1] as number;
    const walk = new OneShotWalk('/proc', false, { untilFound: true });
    const { owners } = walk.finish([listener]);
    expect(owners.get(listener)).toEqual([pid, copy].sort((a, b) => a - b));
    expect(walk.stats().stoppedEarly).toBe(false);
  });

  it.runIf(canNetns)('told what it looks for, finds the owner of a listener in another network namespace', async () => {
    const ns = Netns.unique('pw-walk-');
    ns.create();
    cleanups.push(() => ns.remove());
    const { pid, copy, listener } = await startServer(ns);
    const walk = new OneShotWalk('/proc', false, { untilFound: true });
    expect(walk.finish([listener]).owners.get(listener)).toEqual([pid, copy].sort((a, b) => a - b));
  });

  it('told what it looks for, walks everything for a socket nobody holds, and says it has no owner', async () => {
    const { pid, copy, listener } = await startServer();
    // a number no socket has: it is never found, so nothing may be left unread
    const nobody = 0xfffffff0;
    const walk = new OneShotWalk('/proc', false, { untilFound: true });
    const { owners } = walk.finish([listener, nobody], () => 12345);
    expect(owners.get(listener)).toEqual([pid, copy].sort((a, b) => a - b));
    expect(owners.has(nobody)).toBe(false);
    expect(walk.stats().stoppedEarly).toBe(false);
  });
});
