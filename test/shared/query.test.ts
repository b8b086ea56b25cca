import { describe, expect, it } from 'vitest';
import type { Socket } from '../../src/shared/model';
import { makeSocket } from '../helpers/sockets';
import { matchesQuery, parseQuery } from '../../src/shared/query';

const nginx: Socket = makeSocket({
  id: 'a',
  localAddress: '0.0.0.0',
  localPort: 443,
  pid: 100,
  pids: [100, 101],
  process: {
    pid: 100,
    ppid: 1,
    name: 'nginx',
    exe: '/usr/sbin/nginx',
    cmdline: ['nginx: master process', '-g', 'daemon off;'],
    uid: 0,
    user: 'root',
    startTime: 1,
  },
});
const curl: Socket = {
  ...nginx,
  id: 'b',
  family: 6,
  localAddress: 'fd00::2',
  localPort: 51000,
  remoteAddress: '2606:50c0:8000::153',
  remotePort: 443,
  state: 'ESTABLISHED',
  listening: false,
  pid: 200,
  pids: [200],
  uid: 1000,
  user: 'alice',
  process: { pid: 200, ppid: 1, name: 'curl', exe: '/usr/bin/curl', cmdline: ['curl', 'https://github.com'], uid: 1000, user: 'alice', startTime: 2 },
};
const tw: Socket = { ...curl, id: 'c', state: 'TIME_WAIT', pid: null, pids: [], process: null, protocol: 'tcp', remotePort: 80, user: 'root', uid: 0 };
const dns: Socket = {
  ...nginx,
  id: 'd',
  protocol: 'udp',
  localPort: 53,
  state: 'UNCONN',
  localAddress: '127.0.0.53',
  process: { ...nginx.process!, name: 'systemd-resolved', pid: 300, cmdline: ['/lib/systemd/systemd-resolved'] },
  pid: 300,
  pids: [300],
};
const all = [nginx, curl, tw, dns];
const hostName = (a: string): string | undefined => (a === '2606:50c0:8000::153' ? 'lb-140-82-121-4-fra.github.com' : undefined);

function ids(q: string): string[] {
  const p = parseQuery(q);
  if (!p.ok) throw new Error(`${q}: ${p.message}`);
  return all.filter((s) => matchesQuery(p.query, s, { hostName })).map((s) => s.id);
}

describe('query language', () => {
  const cases: Array<[string, string[]]> = [
    ['', ['a', 'b', 'c', 'd']],
    ['nginx', ['a']],
    ['NGINX', ['a']],
    ['port:443', ['a', 'b']],
    ['lport:443', ['a']],
    ['rport:443', ['b']],
    ['port:50000-60000', ['b', 'c']],
    ['proc:nginx', ['a']],
    ['proc:systemd-res', ['d']],
    ['pid:101', ['a']],
    ['pid:200', ['b']],
    // every listener, as ss -l and --listen count them: the unconnected UDP one too
    ['state:listen', ['a', 'd']],
    ['state:listening', ['a', 'd']],
    ['state:time-wait', ['c']],
    ['state:TIME_WAIT', ['c']],
    ['state:estab', ['b']],
    ['state:unconn', ['d']],
    ['host:github', ['b', 'c']], // c is a TIME_WAIT to the same address
    ['host:2606:50c0', ['b', 'c']],
    ['user:root', ['a', 'c', 'd']],
    ['user:1000', ['b']],
    ['-user:root', ['b']],
    ['port:443 -state:listen', ['b']],
    ['-state:listen', ['b', 'c']],
    ['proto:udp', ['d']],
    ['family:6', ['b', 'c']],
    ['family:ipv4', ['a', 'd']],
    ['"daemon off"', ['a']],
    ['github', ['b', 'c']],
    ['fd00::2', ['b', 'c']],
    // v2: an endpoint as the table shows it finds its row (v1 found nothing: issue 14, item 4)
    ['127.0.0.53:53', ['d']],
    ['-nginx -curl', ['c', 'd']],
    ['process:curl', ['b']],
  ];
  for (const [q, want] of cases) it(`${JSON.stringify(q)} -> ${want.join(',') || 'nothing'}`, () => expect(ids(q)).toEqual(want));

  it('proc: finds the rows of the process group: one its process let go of too, not its TIME_WAIT (the kernel group)', () => {
    const owner = nginx.process ?? undefined;
    const released: Socket = { ...nginx, id: 'r', pid: null, pids: [], process: null, noOwner: 'not-found', lastOwner: owner };
    const closed: Socket = { ...tw, id: 't', noOwner: 'closed', lastOwner: owner };
    const p = parseQuery('proc:nginx');
    if (!p.ok) throw new Error(p.message);
    expect([nginx, released, closed].filter((s) => matchesQuery(p.query, s, { hostName })).map((s) => s.id)).toEqual(['a', 'r']);
  });

  const bad: Array<[string, RegExp]> = [
    ['port:', /port: needs a value/],
    // v2 takes service names (port:http is 80): a name the registry does not know is still refused
    ['port:htttp', /"htttp" is not a port/],
    ['port:70000', /is not a port/],
    ['port:9-1', /is not a port/],
    ['pid:abc', /is not a process id/],
    ['pid:0', /is not a process id/],
    ['state:bogus', /"bogus" is not a state/],
    ['proto:sctp', /is not a protocol \(tcp, udp, udplite, raw, icmp, mptcp\)/],
    ['family:5', /not 4 or 6/],
    ['color:red', /unknown field "color:"/],
    ['"open quote', /quote is not closed/],
    ['-', /needs something after the minus/],
    ['x'.repeat(3000), /too long/],
  ];
  for (const [q, message] of bad) {
    it(`refuses ${JSON.stringify(q.slice(0, 30))} with a clear message`, () => {
      const p = parseQuery(q);
      expect(p.ok).toBe(false);
      if (!p.ok) {
        expect(p.message).toMatch(message);
        expect(p.position).toBeGreaterThanOrEqual(0);
      }
    });
  }

  it('never throws on random input', () => {
    const alphabet = 'abc:-" 0123456789port:state:listen\t\u0000\u00e9';
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    for (let i = 0; i < 3000; i++) {
      const q = Array.from({ length: rand(40) }, () => alphabet[rand(alphabet.length)]).join('');
      expect(() => {
        const p = parseQuery(q);
        if (p.ok) for (const s of all) matchesQuery(p.query, s);
      }).not.toThrow();
    }
    expect(parseQuery(42 as unknown as string)).toMatchObject({ ok: false });
  });
});

describe('iface: and netns:', () => {
  const bound: Socket = { ...nginx, id: 'b', interface: 'lo' };
  const boxed: Socket = { ...nginx, id: 'c', netns: 'net:[4026532281]', container: '3f2a9c1d0b7e' };
  const holds = (q: string, s: Socket): boolean => {
    const p = parseQuery(q);
    if (!p.ok) throw new Error(p.message);
    return matchesQuery(p.query, s);
  };
  it('matches the bound device exactly, and none for unbound sockets', () => {
    expect(holds('iface:lo', bound)).toBe(true);
    expect(holds('iface:l', bound)).toBe(false);
    expect(holds('iface:none', nginx)).toBe(true);
    expect(holds('-iface:none', bound)).toBe(true);
  });
  it('matches a namespace by id or container, and self for our own', () => {
    expect(holds('netns:4026532281', boxed)).toBe(true);
    expect(holds('container:3f2a', boxed)).toBe(true);
    expect(holds('netns:self', boxed)).toBe(false);
    expect(holds('netns:self', nginx)).toBe(true);
  });
});
