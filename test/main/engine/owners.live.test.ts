import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { OwnerIndex } from '../../../src/main/engine/owners';
import { isRunning, spawnReady, waitFor, type Child } from '../../helpers/children';

/**
 * A python child that takes commands on stdin and answers one line each:
 *   open            -> "<port> <fd>"   a new TCP listener on 127.0.0.1
 *   close <port>    -> "ok"
 *   fork            -> "<pid>"         a child that inherits every socket and sleeps
 *   drop <pid> <port> -> "ok"          tells that forked child to close its copy of <port>'s socket
 */
const SCRIPT = `
import os, socket, sys, time, signal
socks = {}
kids = {}
def out(x):
    sys.stdout.write(str(x) + "\\n"); sys.stdout.flush()
out("ready")
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "open":
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
        socks[s.getsockname()[1]] = s; out("%d %d" % (s.getsockname()[1], s.fileno()))
    elif cmd[0] == "close":
        socks.pop(int(cmd[1])).close(); out("ok")
    elif cmd[0] == "fork":
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(w)
            f = os.fdopen(r)
            for l in f:
                socks.pop(int(l)).close()
            os._exit(0)
        os.close(r); kids[pid] = w; out(pid)
    elif cmd[0] == "drop":
        os.write(kids[int(cmd[1])], (cmd[2] + "\\n").encode()); out("ok")
`;

class Driver {
  private buffer = '';
  private waiters: Array<(line: string) => void> = [];
  constructor(readonly child: Child) {
    child.proc.stdout?.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.waiters.shift()?.(line);
      }
    });
  }
  send(cmd: string): Promise<string> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.child.proc.stdin?.write(cmd + '\n');
    });
  }
}

/** Inode of the socket listening on 127.0.0.1:port, from the kernel's table. */
function inodeOf(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const line = readFileSync('/proc/net/tcp', 'latin1')
    .split('\n')
    .find((l) => l.includes(`0100007F:${hex} 00000000:0000 0A`));
  if (!line) throw new Error(`no listener on ${port}`);
  return Number(line.trim().split(/\s+/)[9]);
}

function tcpInodes(): number[] {
  return ['tcp', 'tcp6', 'udp', 'udp6'].flatMap((f) =>
    readFileSync(`/proc/net/${f}`, 'latin1')
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => Number(l.trim().split(/\s+/)[9])),
  );
}

describe('OwnerIndex, incremental, against real processes', () => {
  let driver: Driver;
  afterEach(async () => {
    await driver?.child.stop();
  });

  async function start(): Promise<Driver> {
    const child = await spawnReady('/usr/bin/python3.11', ['-u', '-c', SCRIPT], { stdin: true });
    child.proc.stdin?.on('error', () => {});
    driver = new Driver(child);
    return driver;
  }

  it('finds a new socket on a reused descriptor number, and forgets the closed one, without a full walk', async () => {
    const d = await start();
    const index = new OwnerIndex('/proc', Infinity);
    // twenty sockets besides the one that will churn: a steady poll must not read them again
    for (let i = 0; i < 20; i++) await d.send('open');
    const [portA, fdA] = (await d.send('open')).split(' ').map(Number) as [number, number];
    const inodeA = inodeOf(portA);
    expect(index.resolve(tcpInodes()).get(inodeA)).toEqual([d.child.pid]);
    expect(index.stats.fullWalk).toBe(true);
    const cold = index.stats.readlinksByPid.get(d.child.pid) ?? 0;
    expect(cold).toBeGreaterThan(21);
    // what is not a socket (stdio, pipes) may be re-read while the index hunts for another process's new
    // socket; the 21 sockets never are
    const nonSockets = cold - 21;

    index.resolve(tcpInodes());
    expect(index.stats.fullWalk).toBe(false);
    expect(index.stats.readlinksByPid.get(d.child.pid) ?? 0).toBeLessThanOrEqual(nonSockets);

    await d.send(`close ${portA}`);
    const [portB, fdB] = (await d.send('open')).split(' ').map(Number) as [number, number];
    expect(fdB).toBe(fdA); // the kernel reused the number
    const inodeB = inodeOf(portB);
    const owners = index.resolve(tcpInodes());
    expect(owners.get(inodeB)).toEqual([d.child.pid]);
    expect(owners.has(inodeA)).toBe(false);
    expect(index.stats.fullWalk).toBe(false);
    // the reused descriptor is read again, the other sockets are not
    expect(index.stats.readlinksByPid.get(d.child.pid)).toBeLessThanOrEqual(1 + nonSockets);
  });

  it('does not hunt every process for a socket its owner just closed while the dump still lists it, and looks next poll', async () => {
    const d = await start();
    const index = new OwnerIndex('/proc', Infinity);
    const [port] = (await d.send('open')).split(' ').map(Number) as [number];
    const inode = inodeOf(port);
    expect(index.resolve(tcpInodes()).get(inode)).toEqual([d.child.pid]);
    index.resolve(tcpInodes());

    await d.send(`close ${port}`);
    // a churning process closes sockets between the kernel's dump and the re-list of its descriptors: the dump
    // still names this one, its holder's table no longer does
    const owners = index.resolve([...tcpInodes(), inode]);
    expect(owners.has(inode)).toBe(false);
    // no walk of every other process's descriptors (this test's own among them) nor of their threads
    expect(index.stats.readlinksByPid.get(process.pid)).toBeUndefined();
    expect(index.stats.threadsChecked).toBe(0);

    // still listed a poll later (not on its way out after all): then it is looked for everywhere
    expect(index.resolve([...tcpInodes(), inode]).has(inode)).toBe(false);
    expect(index.stats.readlinksByPid.get(process.pid)).toBeGreaterThan(0);
    expect(index.stats.threadsChecked).toBeGreaterThan(0);
  });

  it('drops a forked owner that closed its copy, or became a zombie, before any full refresh', async () => {
    const d = await start();
    const index = new OwnerIndex('/proc', Infinity);
    const [port] = (await d.send('open')).split(' ').map(Number) as [number];
    const inode = inodeOf(port);
    const kid = Number(await d.send('fork'));
    expect(index.resolve(tcpInodes()).get(inode)).toEqual([d.child.pid, kid].sort((a, b) => a - b));

    await d.send(`drop ${kid} ${port}`);
    // the forked child closes its copy asynchronously: poll until it shows, as a monitor would
    const owners = await waitFor(
      () => {
        const o = index.resolve(tcpInodes()).get(inode);
        return o?.length === 1 ? o : undefined;
      },
      5000,
      'the fork to drop its copy',
    );
    expect(owners).toEqual([d.child.pid]);
    expect(index.stats.fullWalk).toBe(false);

    // a second fork that dies unreaped (a zombie keeps its pid but holds nothing)
    const zombie = Number(await d.send('fork'));
    expect(index.resolve(tcpInodes()).get(inode)).toContain(zombie);
    process.kill(zombie, 'SIGKILL');
    await waitFor(() => (isRunning(zombie) ? undefined : true), 5000, 'the fork to die');
    expect(index.resolve(tcpInodes()).get(inode)).toEqual([d.child.pid]);
  });
});
