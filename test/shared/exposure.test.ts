import { describe, expect, it } from 'vitest';
import { classifyPort, exposureOf, exposureOfAddress, riskOf } from '../../src/shared/exposure';
import { isExpected, ruleFor, rulesFor, ruleMatches } from '../../src/shared/baseline';
import type { Socket } from '../../src/shared/model';
import { makeSocket } from '../helpers/sockets';

describe('exposure', () => {
  const cases: Array<[string, string]> = [
    ['0.0.0.0', 'all'],
    ['::', 'all'],
    ['127.0.0.1', 'loopback'],
    ['127.0.0.53', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.1.2.3', 'interface'],
    ['::ffff:0.0.0.0', 'all'], // IPv4's any address seen through an IPv6 socket
    ['10.0.0.5', 'interface'],
    ['192.168.1.10', 'interface'],
    ['fd00:1234:5678:9abc:def0:1234:5678:9abc', 'interface'],
    ['fe80::1%eth0', 'interface'],
    ['fe80::1', 'interface'],
    ['2001:db8::1', 'interface'],
  ];
  for (const [address, want] of cases) it(`${address} is ${want}`, () => expect(exposureOfAddress(address)).toBe(want));

  it('judges only listening sockets', () => {
    expect(exposureOf({ listening: false, localAddress: '0.0.0.0' })).toBeNull();
    expect(exposureOf({ listening: true, localAddress: '::' })).toBe('all');
  });
});

describe('port classification', () => {
  it('names the IANA range, privilege, service and risk', () => {
    expect(classifyPort(22, 'tcp')).toMatchObject({ range: 'well-known', privileged: true, service: 'ssh', risk: null });
    expect(classifyPort(1023, 'tcp').range).toBe('well-known');
    expect(classifyPort(1024, 'tcp')).toMatchObject({ range: 'registered', privileged: false });
    expect(classifyPort(49151, 'udp').range).toBe('registered');
    expect(classifyPort(49152, 'tcp').range).toBe('dynamic');
    expect(classifyPort(65535, 'tcp').range).toBe('dynamic');
    expect(classifyPort(5353, 'udp').service).toBe('mdns');
  });

  it('flags services risky to expose, each with a reason', () => {
    for (const [port, proto] of [
      [23, 'tcp'],
      [21, 'tcp'],
      [111, 'udp'],
      [137, 'udp'],
      [139, 'tcp'],
      [445, 'tcp'],
      [6000, 'tcp'],
      [6063, 'tcp'],
      [5900, 'tcp'],
      [5901, 'tcp'],
      [3389, 'tcp'],
      [6379, 'tcp'],
      [11211, 'udp'],
      [27017, 'tcp'],
      [2375, 'tcp'],
      [9200, 'tcp'],
    ] as const) {
      expect(riskOf(port, proto), `${port}/${proto}`).toMatch(/\w+ .{10,}/);
    }
    expect(riskOf(6064, 'tcp')).toBeNull();
    expect(riskOf(443, 'tcp')).toBeNull();
    expect(riskOf(23, 'udp')).toBeNull();
  });
});

describe('baseline rules', () => {
  const base: Socket = makeSocket({
    id: 'a',
    localAddress: '0.0.0.0',
    pid: 5,
    pids: [5, 6],
    process: { pid: 5, ppid: 1, name: 'nginx', exe: '/usr/sbin/nginx', cmdline: ['nginx'], uid: 0, user: 'root', startTime: 1 },
  });

  it('a rule holds when every field it sets holds', () => {
    expect(ruleMatches({ process: 'nginx', port: 80 }, base)).toBe(true);
    expect(ruleMatches({ process: 'nginx', port: 81 }, base)).toBe(false);
    expect(ruleMatches({ exposure: 'loopback' }, base)).toBe(false);
    expect(ruleMatches({ exe: '/usr/sbin/nginx', protocol: 'tcp' }, base)).toBe(true);
    expect(ruleMatches({}, base)).toBe(true);
    expect(isExpected([], base)).toBe(false);
    expect(isExpected([{ port: 80 }], { ...base, listening: false, state: 'ESTABLISHED' })).toBeNull();
  });
  it('makes one rule per listener, without repeats', () => {
    expect(ruleFor(base)).toEqual({ protocol: 'tcp', port: 80, exposure: 'all', process: 'nginx' });
    expect(ruleFor({ ...base, process: null, ownerHidden: true })).toEqual({ protocol: 'tcp', port: 80, exposure: 'all' });
    const rules = rulesFor([
      base,
      { ...base, id: 'b', pid: 6 },
      { ...base, id: 'c', localPort: 443 },
      { ...base, id: 'd', listening: false, state: 'ESTABLISHED' },
    ]);
    expect(rules.map((r) => r.port)).toEqual([80, 443]);
  });
});
