import { Monitor } from '../../src/main/engine/monitor';
import type { ClosedConnection, ProcessInfo, Socket } from '../../src/shared/model';
import { waitFor } from './children';

/** A listening TCP socket on 127.0.0.1:80 owned by root, with whatever a test changes. */
export function makeSocket(over: Partial<Socket> = {}): Socket {
  return {
    id: 'tcp|127.0.0.1|80|*|*|1',
    protocol: 'tcp',
    family: 4,
    localAddress: '127.0.0.1',
    localPort: 80,
    remoteAddress: null,
    remotePort: null,
    state: 'LISTEN',
    listening: true,
    pid: null,
    pids: [],
    uid: 0,
    user: 'root',
    ownerHidden: false,
    noOwner: null,
    interface: null,
    v6only: null,
    bytesIn: null,
    bytesOut: null,
    rttMs: null,
    netns: null,
    container: null,
    process: null,
    ...over,
  };
}

/** A TCP connection the kernel reported closed (10.0.0.1:40000 -> 10.0.0.2:443, no owner known), with whatever a test changes. */
export function makeClosed(over: Partial<ClosedConnection> = {}): ClosedConnection {
  return {
    id: 'tcp|10.0.0.1|40000|10.0.0.2|443',
    protocol: 'tcp',
    family: 4,
    localAddress: '10.0.0.1',
    localPort: 40000,
    remoteAddress: '10.0.0.2',
    remotePort: 443,
    state: 'CLOSE',
    pid: null,
    name: null,
    uid: null,
    bytesIn: null,
    bytesOut: null,
    firstSeen: null,
    closedAt: 0,
    netns: null,
    ...over,
  };
}

export function makeProcess(pid: number, name: string, over: Partial<ProcessInfo> = {}): ProcessInfo {
  return { pid, ppid: 1, name, exe: `/usr/bin/${name}`, cmdline: [name], uid: 0, user: 'root', startTime: 1000 + pid, ...over };
}

/**
 * A running monitor over one fixed listener (127.0.0.1:80), its first poll done: the engine a server test
 * needs when what it tests is the server. Stop it with `await monitor.stop()`.
 */
export async function oneListenerMonitor(): Promise<Monitor> {
  const sock = makeSocket({ id: 'tcp|127.0.0.1|80|*|*|1', localPort: 80, pid: 1, pids: [1] });
  const monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [sock], warnings: [] }) }, intervalMs: 250 });
  monitor.start();
  await waitFor(() => monitor.getSnapshot() ?? undefined, 5000, 'first poll');
  return monitor;
}
