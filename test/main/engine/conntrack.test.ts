import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConntrackCounters, parseConntrack } from '../../../src/main/engine/conntrack';
import type { Socket } from '../../../src/shared/model';
import { FIXTURES } from '../../helpers/paths';
import { makeSocket } from '../../helpers/sockets';

const recorded = readFileSync(join(FIXTURES, 'conntrack', 'udp-acct.txt'), 'latin1');

const udp = (address: string, port: number, remote: string | null = null, remotePort: number | null = null): Socket =>
  makeSocket({
    id: `udp|${address}|${port}|${remote ?? '*'}|${remotePort ?? '*'}`,
    protocol: 'udp',
    family: address.includes(':') ? 6 : 4,
    localAddress: address,
    localPort: port,
    remoteAddress: remote,
    remotePort,
    state: remote === null ? 'UNCONN' : 'ESTABLISHED',
    listening: remote === null,
    bytesIn: null,
    bytesOut: null,
  });

describe('conntrack: the recorded table', () => {
  it('parses both families, canonical addresses, replied and unreplied flows', () => {
    const { flows, skipped } = parseConntrack(recorded);
    expect(skipped).toBe(0);
    expect(flows).toHaveLength(4);
    expect(flows[0]).toMatchObject({ protocol: 'udp', orig: { src: '127.0.0.1', dport: 5353, bytes: 128 }, reply: { sport: 5353, bytes: 328 } });
    expect(flows[2]?.orig).toMatchObject({ src: '::1', dst: '::1', bytes: 148 });
    expect(flows[3]?.reply.bytes).toBe(0);
  });

  it('gives the server socket every flow to its port, a connected client its own, and counts only what grew', () => {
    const { flows } = parseConntrack(recorded);
    const clientPort = flows[0]?.orig.sport as number;
    const server4 = udp('127.0.0.1', 5353);
    const server6 = udp('::1', 5353);
    const client = udp('127.0.0.1', clientPort, '127.0.0.1', 5353);
    const c = new ConntrackCounters();
    const [s4, s6, cl] = c.apply([server4, server6, client], flows);
    // in: the connected client's 128 and the unconnected sender's 78; out: the 328 answer
    expect(s4).toMatchObject({ bytesIn: 128 + 78, bytesOut: 328 });
    expect(s6).toMatchObject({ bytesIn: 148 + 98, bytesOut: 348 });
    expect(cl).toMatchObject({ bytesIn: 328, bytesOut: 128 });
    // the same flows again: nothing grew, the counters hold and the objects are handed out again
    const again = c.apply([server4, server6, client], flows);
    expect(again[0]).toBe(s4);
    // a flow that expired and came back counts from zero, so the counter only goes up
    const expired = c.apply([server4, server6, client], []);
    expect(expired[0]).toMatchObject({ bytesIn: 206 });
    expect(c.apply([server4, server6, client], flows.slice(0, 1))[0]).toMatchObject({ bytesIn: 206 + 128, bytesOut: 328 + 328 });
  });

  it('leaves TCP, sockets with kernel counters and other namespaces alone', () => {
    const { flows } = parseConntrack(recorded);
    const tcp = makeSocket({ id: 't', localAddress: '127.0.0.1', localPort: 5353 });
    const other = { ...udp('127.0.0.1', 5353), netns: 'net:[1]' };
    const out = new ConntrackCounters().apply([tcp, other], flows);
    expect(out[0]).toBe(tcp);
    expect(out[1]).toBe(other);
  });

  it('skips what does not parse and counts it; accounting off gives no flows; never throws', () => {
    const bad = 'ipv4     2 udp      17 30 src=1.2.3.4 dst=nonsense sport=1 dport=2 packets=1 bytes=9 src=x dst=y sport=2 dport=1 packets=0 bytes=0\n';
    expect(parseConntrack(bad)).toEqual({ flows: [], skipped: 1 });
    const off = recorded.replace(/ packets=\d+ bytes=\d+/g, '');
    expect(parseConntrack(off)).toEqual({ flows: [], skipped: 0 });
    for (let i = 0; i < 200; i++) {
      const cut = recorded.slice(0, Math.floor(Math.random() * recorded.length)) + String.fromCharCode(Math.floor(Math.random() * 0x3000));
      expect(() => parseConntrack(cut)).not.toThrow();
    }
  });
});
