import { describe, expect, it } from 'vitest';
import type { ClosedConnection } from '../../src/shared/model';
import { describeRateSum, formatRate, formatRateSum, sourceHasRates, sumRates, sumTraffic, totalTraffic, whyNoUdpCounters } from '../../src/shared/traffic';
import { makeProcess, makeSocket } from '../helpers/sockets';

const nginx = makeProcess(10, 'nginx');
const curl = makeProcess(20, 'curl');
const conn = (port: number, pid: number, remote: string, rateIn: number | null, rateOut: number | null, protocol: 'tcp' | 'udp' = 'tcp') =>
  makeSocket({
    id: `${protocol}|10.0.0.1|${port}|${remote}|443`,
    protocol,
    localPort: port,
    remoteAddress: remote,
    remotePort: 443,
    state: 'ESTABLISHED',
    listening: false,
    pid,
    pids: [pid],
    process: pid === 10 ? nginx : curl,
    bytesIn: protocol === 'tcp' ? 1000 : null,
    bytesOut: protocol === 'tcp' ? 500 : null,
    rateIn,
    rateOut,
  });
const closedConn = (pid: number, name: string, unseenIn: number, unseenOut: number): ClosedConnection => ({
  id: `tcp|10.0.0.1|50000|1.1.1.1|443`,
  protocol: 'tcp',
  family: 4,
  localAddress: '10.0.0.1',
  localPort: 50000,
  remoteAddress: '1.1.1.1',
  remotePort: 443,
  state: 'CLOSE',
  pid,
  name,
  uid: 0,
  bytesIn: unseenIn,
  bytesOut: unseenOut,
  unseenBytesIn: unseenIn,
  unseenBytesOut: unseenOut,
  firstSeen: null,
  closedAt: 0,
  netns: null,
});

describe('sumTraffic', () => {
  const sockets = [
    makeSocket({ id: 'l', localPort: 80, pid: 10, pids: [10], process: nginx }),
    conn(40001, 10, '1.1.1.1', 100, 10),
    conn(40002, 10, '2.2.2.2', 50, 0),
    conn(40003, 20, '1.1.1.1', 5000, 700),
    conn(40004, 20, '::ffff:1.1.1.1', null, null),
    conn(53000, 20, '8.8.8.8', null, null, 'udp'),
  ];

  it('sums per process, busiest first; a connection that closed in the interval adds its unseen bytes a second', () => {
    const by = sumTraffic('process', sockets, [closedConn(10, 'nginx', 20_000, 2000)], 2000);
    expect(by.map((t) => [t.label, t.rateIn, t.rateOut, t.connections, t.closed, t.uncounted])).toEqual([
      ['nginx', 150 + 10_000, 10 + 1000, 2, 1, 0],
      ['curl', 5000, 700, 3, 0, 1],
    ]);
  });

  it('sums per remote host (an IPv4-mapped peer is the same host) and per local port', () => {
    const hosts = sumTraffic('remote-host', sockets, [], 1000);
    expect(hosts[0]).toMatchObject({ key: '1.1.1.1', rateIn: 5100, connections: 3 });
    expect(hosts.find((t) => t.key === '8.8.8.8')).toMatchObject({ uncounted: 1, rateIn: 0 });
    expect(sumTraffic('local-port', sockets, [], 1000)[0]).toMatchObject({ key: 'tcp:40003', label: '40003' });
  });

  it('totals the machine, listeners left out', () => {
    expect(totalTraffic(sockets, [closedConn(20, 'curl', 3000, 0)], 1000)).toMatchObject({
      rateIn: 5150 + 3000,
      rateOut: 710,
      connections: 5,
      closed: 1,
      uncounted: 1,
    });
  });
});

describe('formatRate', () => {
  it('says bytes a second in SI units, and a dash where there is no rate', () => {
    expect(formatRate(0)).toBe('0 B/s');
    expect(formatRate(1500)).toBe('1.5 kB/s');
    expect(formatRate(12_500)).toBe('13 kB/s');
    expect(formatRate(3_400_000)).toBe('3.4 MB/s');
    expect(formatRate(null)).toBe('—');
    expect(formatRate(undefined)).toBe('—');
  });
});

describe('sumRates and its words', () => {
  it('adds what has a rate, and says n/a (never 0) when nothing in the sum has counters', () => {
    const udp = conn(40001, 20, '9.9.9.9', null, null, 'udp');
    expect(formatRateSum(sumRates([udp]))).toBe('n/a');
    const both = sumRates([conn(40002, 20, '1.1.1.1', 1500, 200), udp]);
    expect(both).toEqual({ rateIn: 1500, rateOut: 200, counted: 1, uncounted: 1, pending: 0 });
    expect(formatRateSum(both)).toBe('↓ 1.5 kB/s ↑ 200 B/s +n/a');
    expect(describeRateSum(both, whyNoUdpCounters('acct-off'))).toBe(
      'in 1.5 kB/s, out 200 B/s over the last poll, from 1 socket; 1 not counted: no UDP counters: conntrack accounting is off (sysctl net.netfilter.nf_conntrack_acct=1)',
    );
    // first sight: counters, no rate yet
    expect(formatRateSum(sumRates([conn(40003, 20, '1.1.1.1', null, null)]))).toBe('…');
    // a TCP listener carries nothing itself: no gap in the sum, nothing to say
    expect(formatRateSum(sumRates([makeSocket()]))).toBe('');
  });

  it('only netlink reads byte counters; conntrack that holds no flow says so', () => {
    expect([sourceHasRates('netlink'), sourceHasRates('procfs'), sourceHasRates('systeminformation')]).toEqual([true, false, false]);
    expect(whyNoUdpCounters('conntrack')).toMatch(/holds no flow/);
  });
});
