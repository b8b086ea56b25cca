import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConntrackAcct } from '../../../src/main/engine/conntrack';
import { Monitor } from '../../../src/main/engine/monitor';
import { NetlinkSource } from '../../../src/main/engine/sources/netlink';
import type { Delta, Snapshot, Socket } from '../../../src/shared/model';
import { PYTHON, spawnReady, waitFor, type Child } from '../../helpers/children';
import { canNetns, Netns } from '../../helpers/netns';

/*
 * UDP rates from conntrack in a namespace where it tracks (one nftables rule) and accounting is on, beside one
 * where accounting is off: counters only where the admin turned them on, never a fake 0 elsewhere.
 */

/** On each line of stdin: the connected client sends 1000 bytes, the server answers 3000. Prints its ports. */
const UDP_PAIR = String.raw`
import socket, sys
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(('127.0.0.1', 5353))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.connect(('127.0.0.1', 5353))
print(b.getsockname()[1], flush=True)
for _ in sys.stdin:
    b.send(b'q' * 1000); d, addr = a.recvfrom(65536); a.sendto(b'r' * 3000, addr); b.recv(65536)
    print('sent', flush=True)
`;

function tracked(ns: Netns, acct: boolean): void {
  ns.create();
  const nft = (...a: string[]): void => void execFileSync('ip', ns.exec('nft', ...a));
  nft('add', 'table', 'inet', 'pw');
  nft('add', 'chain', 'inet', 'pw', 'out', '{ type filter hook output priority 0; }');
  nft('add', 'rule', 'inet', 'pw', 'out', 'ct', 'state', 'new,established', 'accept');
  execFileSync('ip', ns.exec('sysctl', '-qw', `net.netfilter.nf_conntrack_acct=${acct ? 1 : 0}`));
}

describe.runIf(canNetns)('UDP counters from conntrack', () => {
  const on = Netns.unique('pw-ct1-');
  const off = Netns.unique('pw-ct0-');
  const children: Child[] = [];

  beforeAll(() => {
    tracked(on, true);
    tracked(off, false);
  });
  afterAll(async () => {
    for (const c of children) await c.stop();
    on.remove();
    off.remove();
  });

  it('counts a UDP exchange where accounting is on (whole packets, both ends), and gives no rate where it is off', async () => {
    const withAcct = await spawnReady('ip', on.exec(PYTHON, '-c', UDP_PAIR), { stdin: true });
    const without = await spawnReady('ip', off.exec(PYTHON, '-c', UDP_PAIR), { stdin: true });
    children.push(withAcct, without);
    const monitor = new Monitor({ source: new NetlinkSource({ helperThreads: false }), intervalMs: 250 });
    const latest = new Map<string, Socket>();
    let polls = 0;
    monitor.on('snapshot', (s: Snapshot) => {
      for (const x of s.sockets) latest.set(x.id, x);
      polls++;
    });
    monitor.on('delta', (d: Delta) => {
      for (const id of d.removed) latest.delete(id);
      for (const x of [...d.added, ...d.changed]) latest.set(x.id, x);
      polls++;
    });
    monitor.start();
    try {
      await waitFor(() => (polls >= 2 ? true : undefined), 10_000, 'two polls');
      withAcct.proc.stdin?.write('\n');
      without.proc.stdin?.write('\n');
      const inNs = (ns: Netns, port: number, remote: boolean): Socket | undefined =>
        [...latest.values()].find((s) => s.netns === ns.id() && s.protocol === 'udp' && s.localPort === port && (s.remoteAddress !== null) === remote);
      const clientPort = Number(withAcct.firstLine);
      // 1000 bytes of payload are 1028 in one IPv4 packet; the answer 3028
      const client = await waitFor(
        () => {
          const s = inNs(on, clientPort, true);
          return s?.bytesOut === 1028 && s.bytesIn === 3028 ? s : undefined;
        },
        10_000,
        'the client counted',
      );
      expect(inNs(on, 5353, false)).toMatchObject({ bytesIn: 1028, bytesOut: 3028 });
      // a later poll gives its rate (0 now: nothing more was sent), a number, not null
      await waitFor(() => (inNs(on, clientPort, true)?.rateOut === 0 ? true : undefined), 10_000, 'a rate');
      expect(client.protocol).toBe('udp');
      // accounting off: no counters, no rate; never a fake 0
      expect(inNs(off, Number(without.firstLine), true)).toMatchObject({ bytesIn: null, bytesOut: null, rateIn: null, rateOut: null });
      // and the status says where UDP counters come from in Portwatch's own namespace, as its sysctl says
      const acct = readConntrackAcct();
      const status = monitor.getStatus();
      expect(status?.state === 'ok' ? status.udpCounters : null).toBe(acct === null ? 'no-conntrack' : acct ? 'conntrack' : 'acct-off');
    } finally {
      await monitor.stop();
    }
  });
});
