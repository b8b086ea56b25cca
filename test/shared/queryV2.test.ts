import { describe, expect, it } from 'vitest';
import type { Socket } from '../../src/shared/model';
import { MAX_DEPTH, matchesQuery, parseQuery, type MatchContext } from '../../src/shared/query';
import { makeSocket } from '../helpers/sockets';

/**
 * The filter language v2 (issue 14, item 4): OR and parentheses, lists, service names, CIDR, exposure,
 * unexpected, risk, the displayed forms as free text, and ss's own filter syntax; errors with their position.
 */

const proc = (pid: number, name: string, cmdline: string[]): NonNullable<Socket['process']> => ({
  pid,
  ppid: 1,
  name,
  exe: `/usr/bin/${name}`,
  cmdline,
  uid: 1000,
  user: 'alice',
  startTime: 1,
});

/** sshd on 0.0.0.0:22 (all interfaces) */
const sshd = makeSocket({ id: 'sshd', localAddress: '0.0.0.0', localPort: 22, pid: 10, pids: [10], process: proc(10, 'sshd', ['sshd', '-D']) });
/** a dev server on [::1]:19005 (loopback, IPv6) */
const dev6 = makeSocket({
  id: 'dev6',
  family: 6,
  localAddress: '::1',
  localPort: 19005,
  pid: 20,
  pids: [20],
  process: proc(20, 'node', ['node', 'server.js']),
});
/** 127.0.0.1:19002 */
const dev4 = makeSocket({ id: 'dev4', localAddress: '127.0.0.1', localPort: 19002, pid: 21, pids: [21], process: proc(21, 'node', ['node', 'vite']) });
/** a client 10.1.2.3:51000 -> 93.184.216.34:443 */
const https = makeSocket({
  id: 'https',
  localAddress: '10.1.2.3',
  localPort: 51000,
  remoteAddress: '93.184.216.34',
  remotePort: 443,
  state: 'ESTABLISHED',
  listening: false,
  pid: 30,
  pids: [30],
  process: proc(30, 'curl', ['curl', 'https://example.com']),
});
/** an SMTP client 192.168.1.5:40000 -> [2001:db8::25]:25 over IPv6, mapped v4 local */
const smtp = makeSocket({
  id: 'smtp',
  family: 6,
  localAddress: 'fd00::5',
  localPort: 40000,
  remoteAddress: '2001:db8::25',
  remotePort: 25,
  state: 'ESTABLISHED',
  listening: false,
  pid: 31,
  pids: [31],
  process: proc(31, 'postfix', ['smtp', '-t', 'inet']),
});
/** DNS on *:53 (dual-stack ::), UDP */
const dns = makeSocket({
  id: 'dns',
  protocol: 'udp',
  family: 6,
  localAddress: '::',
  v6only: false,
  localPort: 53,
  state: 'UNCONN',
  pid: 40,
  pids: [40],
  process: proc(40, 'dnsmasq', ['dnsmasq']),
});
/** a listener bound to lo: 0.0.0.0%lo:80 */
const bound = makeSocket({ id: 'bound', localAddress: '0.0.0.0', localPort: 80, interface: 'lo', pid: 50, pids: [50], process: proc(50, 'nginx', ['nginx']) });
/** TIME_WAIT 127.0.0.1:3000 <- 127.0.0.1:45000 */
const tw = makeSocket({
  id: 'tw',
  localAddress: '127.0.0.1',
  localPort: 45000,
  remoteAddress: '127.0.0.1',
  remotePort: 3000,
  state: 'TIME_WAIT',
  listening: false,
  noOwner: 'closed',
  uid: null,
  user: null,
});
/** Redis on 192.168.1.5:6379 (one interface, a risky port) */
const redis = makeSocket({
  id: 'redis',
  localAddress: '192.168.1.5',
  localPort: 6379,
  pid: 60,
  pids: [60],
  process: proc(60, 'redis-server', ['redis-server']),
});
/** a connection in SYN_SENT to 10.0.0.1:8443 */
const syn = makeSocket({
  id: 'syn',
  localAddress: '10.1.2.3',
  localPort: 52000,
  remoteAddress: '10.0.0.1',
  remotePort: 8443,
  state: 'SYN_SENT',
  listening: false,
  pid: 30,
  pids: [30],
});

const all = [sshd, dev6, dev4, https, smtp, dns, bound, tw, redis, syn];
const ctx: MatchContext = {
  hostName: (a) => (a === '93.184.216.34' ? 'www.example.com' : undefined),
  // sshd and redis are expected; every other listener is not
  expected: (s) => (s.listening ? s.id === 'sshd' || s.id === 'redis' : null),
};

function ids(q: string, c: MatchContext = ctx): string[] {
  const p = parseQuery(q);
  if (!p.ok) throw new Error(`${q}: ${p.message} at ${p.position}`);
  return all.filter((s) => matchesQuery(p.query, s, c)).map((s) => s.id);
}

function refused(q: string): { message: string; position: number } {
  const p = parseQuery(q);
  if (p.ok) throw new Error(`${q} was accepted`);
  return p;
}

describe('the displayed forms, as free text', () => {
  const cases: Array<[string, string[]]> = [
    ['127.0.0.1:19002', ['dev4']],
    ['[::1]:19005', ['dev6']],
    ['[0:0:0:0:0:0:0:1]:19005', ['dev6']], // the same address written long
    ['[::1]', ['dev6']],
    ['*:53', ['dns']],
    ['0.0.0.0%lo:80', ['bound']],
    ['0.0.0.0:80', ['bound']], // without the device, as the kernel has it
    ['93.184.216.34:443', ['https']], // the remote end
    ['127.0.0.1:3000', ['tw']], // the remote end of a TIME_WAIT
    ['[2001:db8::25]:25', ['smtp']],
    [':3000', ['tw']],
    [':22', ['sshd']],
    [':19005', ['dev6']],
    [':ssh', ['sshd']],
    ['tcp6', ['dev6', 'smtp']],
    ['udp6', ['dns']],
    ['tcp4', ['sshd', 'dev4', 'https', 'bound', 'tw', 'redis', 'syn']],
    ['TCP6', ['dev6', 'smtp']],
    ['127.0.0.1:1900', []], // exact, not a prefix of :19002
  ];
  for (const [q, want] of cases) it(`${q} -> ${want.join(',') || 'nothing'}`, () => expect(ids(q)).toEqual(want));

  it('free text finds what the table shows: protocol column, endpoints, host name, service name', () => {
    expect(ids('udp')).toEqual(['dns']);
    expect(ids('0.1:190')).toEqual(['dev4']); // a piece of the local endpoint text
    expect(ids('example')).toEqual(['https']); // command line and host name
    expect(ids('www.example.com')).toEqual(['https']); // only the host name
    const withServices: MatchContext = { ...ctx, serviceName: (p) => (p === 6379 ? 'redis' : undefined) };
    expect(ids('redis', withServices)).toEqual(['redis']);
  });
});

describe('fields v2', () => {
  const cases: Array<[string, string[]]> = [
    ['port:80,443', ['https', 'bound']],
    ['port:ssh', ['sshd']],
    ['port:https', ['https']],
    ['port:domain', ['dns']], // 53: TCP and UDP entries alike
    ['port:http', ['bound']], // /etc/services' name for 80 (IANA says www-http)
    ['lport:ssh,53', ['sshd', 'dns']],
    ['rport:smtp', ['smtp']],
    ['state:listen,established', ['sshd', 'dev6', 'dev4', 'https', 'smtp', 'dns', 'bound', 'redis']],
    ['state:connected', ['https', 'smtp', 'tw', 'syn']],
    ['state:syn-sent', ['syn']],
    ['host:10.0.0.0/8', ['syn']], // the remote end: 10.1.2.3 is only a local address
    ['host:10.0.0.1', ['syn']],
    ['host:fd00::/8', []],
    ['host:2001:db8::/32', ['smtp']],
    ['host:93.184.0.0/16', ['https']],
    ['exposure:all', ['sshd', 'dns']],
    ['exposure:loopback', ['dev6', 'dev4', 'bound']],
    ['exposure:interface', ['redis']],
    ['exposure:all,interface', ['sshd', 'dns', 'redis']],
    ['unexpected', ['dev6', 'dev4', 'dns', 'bound']],
    ['-unexpected state:listen', ['sshd', 'redis']],
    ['risk', ['redis']],
    ['iface:lo', ['bound']],
    ['proto:udp,tcp6', ['dev6', 'smtp', 'dns']],
    ['sport:22', ['sshd']],
  ];
  for (const [q, want] of cases) it(`${q} -> ${want.join(',') || 'nothing'}`, () => expect(ids(q)).toEqual(want));

  it('unexpected matches nothing where the baseline is not known, and says it needs it', () => {
    expect(ids('unexpected', {})).toEqual([]);
    const p = parseQuery('unexpected or risk');
    expect(p.ok && p.query.needsBaseline).toBe(true);
    const q = parseQuery('risk');
    expect(q.ok && q.query.needsBaseline).toBe(false);
  });
});

describe('or, and, not, parentheses', () => {
  const cases: Array<[string, string[]]> = [
    ['sshd or redis', ['sshd', 'redis']],
    ['sshd | redis', ['sshd', 'redis']],
    ['sshd || redis-server', ['sshd', 'redis']],
    ['node and vite', ['dev4']],
    ['node && vite', ['dev4']],
    ['node & vite', ['dev4']],
    ['node vite', ['dev4']],
    ['(node vite) or -state:listen', ['dev4', 'https', 'smtp', 'tw', 'syn']],
    ['-(node or state:listen)', ['https', 'smtp', 'tw', 'syn']],
    ['not state:listen', ['https', 'smtp', 'tw', 'syn']],
    ['!state:listen', ['https', 'smtp', 'tw', 'syn']],
    ['! state:listen', ['https', 'smtp', 'tw', 'syn']],
    ['node or sshd and port:22', ['dev6', 'dev4', 'sshd']], // and binds tighter than or, as in ss
    ['(node or sshd) and port:22', ['sshd']],
    ['((((sshd))))', ['sshd']],
    ['"or"', []], // quoted: the text, not the operator
    ['NOT node', ['sshd', 'https', 'smtp', 'dns', 'bound', 'tw', 'redis', 'syn']],
  ];
  for (const [q, want] of cases)
    it(`${q} -> ${want.join(',') || 'nothing'}`, () =>
      expect(ids(q)).toEqual(want.sort((a, b) => all.findIndex((s) => s.id === a) - all.findIndex((s) => s.id === b))));
});

describe("ss's filter syntax, as users type it", () => {
  const cases: Array<[string, string[]]> = [
    ["state established '( dport = :smtp or sport = :smtp )'", ['smtp']],
    ['state established ( dport = :smtp or sport = :smtp )', ['smtp']],
    ['state established \\( dport = :https or sport = :https \\)', ['https']], // as a shell line escapes them
    ['sport = :22', ['sshd']],
    ['sport == :22', ['sshd']],
    ['sport eq :22', ['sshd']],
    ['sport :22', ['sshd']],
    ['sport=:22', ['sshd']],
    ['sport = 22', ['sshd']],
    ['sport = :ssh', ['sshd']],
    ['dport != :443 state established', ['smtp']],
    ['dport neq :443 and state:established', ['smtp']],
    ['dport ne :443 state established', ['smtp']],
    ['dport > :1024', ['tw', 'syn']],
    ['dport gt :1024', ['tw', 'syn']],
    ['dport < :100', ['smtp']],
    ['dport lt :100', ['smtp']],
    ['dport >= :3000', ['tw', 'syn']],
    ['dport <= :443', ['https', 'smtp']],
    ['sport ge :40000', ['https', 'smtp', 'tw', 'syn']],
    ['sport le :53', ['sshd', 'dns']],
    ['dst 10.0.0.1', ['syn']],
    ['dst 93.184.216.34:443', ['https']],
    ['dst 93.184.216.34:https', ['https']],
    ['dst [2001:db8::25]:25', ['smtp']],
    ['dst 2001:db8::25', ['smtp']],
    ['dst [2001:db8::]/32', ['smtp']],
    ['dst 127.0.0.1:3000', ['tw']],
    ['dst www.example.com', ['https']],
    ['dst example.com', ['https']], // a name ends in it
    ['dst www.example.com:https', ['https']], // host:port with a name
    ['src 192.168.0.0/16', ['redis']],
    ['src 10.1.2/24', ['https', 'syn']], // ss's short IPv4 block
    ['src fd00::/8', ['smtp']],
    ['src *:53', ['dns']],
    ['src :22', ['sshd']],
    ['src = 127.0.0.1', ['dev4', 'tw']],
    ['dst != 10.0.0.1 state connected', ['https', 'smtp', 'tw']],
    ['dev lo', ['bound']],
    ['dev = lo', ['bound']],
    ['dev != lo state listening', ['sshd', 'dev6', 'dev4', 'dns', 'redis']],
    ['state listening', ['sshd', 'dev6', 'dev4', 'dns', 'bound', 'redis']],
    ['state time-wait', ['tw']],
    ['state syn-sent', ['syn']],
    ['state connected', ['https', 'smtp', 'tw', 'syn']],
    ['state synchronized', ['https', 'smtp', 'tw']],
    ['state bucket', ['tw']],
    ['state big exclude listening', ['https', 'smtp', 'syn']],
    ['state all exclude listening', ['https', 'smtp', 'tw', 'syn']],
    ['exclude listening', ['https', 'smtp', 'tw', 'syn']],
    ['state closed', []],
    ['state established state syn-sent', ['https', 'smtp', 'syn']], // ss: states add up
    ['state established or sshd', ['sshd', 'https', 'smtp']],
    ['sport = :22 || sport = :53', ['sshd', 'dns']],
    ['! sport = :22 && state listening', ['dev6', 'dev4', 'dns', 'bound', 'redis']],
    ['not dport = :443 and state:established', ['smtp']],
    // mixed with the field syntax
    ["proc:curl '( dport = :https )'", ['https']],
    ['state established -proc:curl', ['smtp']],
    ['SPORT = :22', ['sshd']],
  ];
  for (const [q, want] of cases) it(`${q} -> ${want.join(',') || 'nothing'}`, () => expect(ids(q)).toEqual(want));
});

describe('errors say what was expected, and where', () => {
  const cases: Array<[string, RegExp, number]> = [
    ['sshd or', /expected a term after "or"/, 7],
    ['or sshd', /expected a term before "or"/, 0],
    ['(sshd', /expected "\)" to close the "\(" at column 1/, 5],
    ['sshd)', /unexpected "\)"/, 4],
    ['()', /expected a term inside/, 1],
    ['port:80,', /expected a value before or after ","/, 8],
    ['port:80,htttp', /"htttp" is not a port/, 8],
    ['state:listen,bogus', /"bogus" is not a state/, 13],
    ['node porrt:80', /unknown field "porrt:": did you mean "port:"\?/, 5],
    ['sport = ', /expected a port like :22 or :ssh after "sport ="/, 8],
    ['sport = :nosuch', /sport: "nosuch" is not a port/, 8],
    ['dport > :domainx', /is not a port/, 8],
    ['dst', /expected an address/, 3],
    ['dst 999.1.1.1', /is not an address/, 4],
    ['src 10.0.0.0/99', /prefix is 0 to 32 bits/, 4],
    ['host:10.0.0.0/x', /expected a prefix length/, 5],
    ['state', /expected a state after "state"/, 5],
    ['state bogus', /"bogus" is not a state/, 6],
    ['exclude', /expected a state after "exclude"/, 7],
    ['dst > 10.0.0.1', /dst takes = or !=/, 6],
    ['= 22', /an operator goes after sport/, 0],
    ["'( sport = :22 ", /single quote is not closed/, 0],
    ['"open quote', /quote is not closed/, 0],
    ['exposure:everywhere', /not an exposure \(all, interface, loopback\)/, 9],
    [':99999', /is not a port/, 0],
    [':nosuchservice', /":PORT" is a port/, 0],
    ['[::1', /unknown|not|expected/, 0],
    ['[1.2.3.4]:80', /is not an IPv6 address/, 0],
    ['300.1.1.1:80', /is not an IPv4 address/, 0],
    ['not', /expected a term after "not"/, 3],
    ['sshd and and redis', /expected a term after "and"/, 9],
  ];
  for (const [q, message, position] of cases) {
    it(`${JSON.stringify(q)}: ${message.source} at ${position}`, () => {
      const p = parseQuery(q);
      if (q === '[::1') {
        // not a displayed form: plain text (it finds nothing, but it is not an error)
        expect(p.ok).toBe(true);
        return;
      }
      const r = refused(q);
      expect(r.message).toMatch(message);
      expect(r.position).toBe(position);
    });
  }

  it('caps nesting, and says so, instead of recursing without bound', () => {
    const ok = `${'('.repeat(MAX_DEPTH)}sshd${')'.repeat(MAX_DEPTH)}`;
    expect(ids(ok)).toEqual(['sshd']);
    const deep = `${'('.repeat(MAX_DEPTH + 1)}sshd${')'.repeat(MAX_DEPTH + 1)}`;
    expect(refused(deep)).toMatchObject({ message: expect.stringMatching(/nested too deep: at most 64/), position: MAX_DEPTH });
    expect(refused('!'.repeat(500) + 'sshd').message).toMatch(/nested too deep/);
    expect(refused('-('.repeat(500) + 'sshd').message).toMatch(/nested too deep/);
    expect(refused('('.repeat(1999)).message).toMatch(/nested too deep/);
    expect(refused('a'.repeat(2001)).message).toMatch(/too long \(2,000 characters at most\)/);
  });

  it('quotes a long piece of a hostile query cut short in its message', () => {
    const r = refused(`dst ${'a'.repeat(500)}!`);
    expect(r.message).toMatch(/^dst: "a{40}…" is not an address/);
    expect(r.message.length).toBeLessThan(200);
  });

  it('never throws, on random strings of the language and of noise', () => {
    const pieces = [
      '(',
      ')',
      ' ',
      "'",
      '"',
      '\\',
      '!',
      '-',
      '|',
      '&',
      '=',
      '<',
      '>',
      ':',
      ',',
      '/',
      '[',
      ']',
      '%',
      '*',
      'or',
      'and',
      'not',
      'state',
      'exclude',
      'sport',
      'dport',
      'src',
      'dst',
      'dev',
      'eq',
      'gt',
      'port:',
      'host:',
      'state:',
      'established',
      'listening',
      '22',
      'ssh',
      '10.0.0.0',
      '::1',
      'fd00::',
      'x',
      '\u0000',
      '\u00e9',
      '\ud800',
    ];
    let seed = 11;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    for (let i = 0; i < 5000; i++) {
      const q = Array.from({ length: rand(30) }, () => pieces[rand(pieces.length)]).join(rand(3) === 0 ? ' ' : '');
      const p = parseQuery(q);
      if (p.ok) for (const s of all) matchesQuery(p.query, s, ctx);
      else {
        expect(typeof p.message).toBe('string');
        expect(p.position).toBeGreaterThanOrEqual(0);
        expect(p.position).toBeLessThanOrEqual(q.length);
      }
    }
    for (let i = 0; i < 2000; i++) {
      const q = String.fromCharCode(...Array.from({ length: rand(60) }, () => rand(0x3000)));
      const p = parseQuery(q);
      if (p.ok) for (const s of all) matchesQuery(p.query, s, ctx);
    }
    expect(parseQuery(null as unknown as string)).toMatchObject({ ok: false });
  });
});

describe('traffic terms: dir: and rate comparisons', () => {
  const base = { state: 'ESTABLISHED' as const, listening: false, remoteAddress: '10.0.0.9', remotePort: 443 };
  const busy = makeSocket({ ...base, id: 'busy', direction: 'out', rateIn: 50_000, rateOut: 1000, bytesIn: 5e6, bytesOut: 1e5 });
  const idle = makeSocket({ ...base, id: 'idle', direction: 'in', rateIn: 0, rateOut: 0, bytesIn: 10, bytesOut: 10 });
  const udp = makeSocket({ ...base, id: 'udp', protocol: 'udp', direction: 'out', rateIn: null, rateOut: null, bytesIn: null, bytesOut: null });
  const all = [busy, idle, udp];
  const hits = (q: string): string[] => {
    const p = parseQuery(q);
    if (!p.ok) throw new Error(`${q}: ${p.message}`);
    return all.filter((s) => matchesQuery(p.query, s)).map((s) => s.id);
  };

  it('dir:in and dir:out follow Socket.direction', () => {
    expect(hits('dir:out')).toEqual(['busy', 'udp']);
    expect(hits('direction:in')).toEqual(['idle']);
    expect(parseQuery('dir:sideways')).toMatchObject({ ok: false, message: expect.stringMatching(/not a direction/) });
  });

  it('rate, in, out and bytes compare with SI amounts; a socket without the number never matches', () => {
    expect(hits('rate>10k')).toEqual(['busy']);
    expect(hits('rate:>10k')).toEqual(['busy']);
    expect(hits('in>=50k')).toEqual(['busy']);
    expect(hits('out<500')).toEqual(['idle']);
    expect(hits('bytes>1M')).toEqual(['busy']);
    expect(hits('rate=0')).toEqual(['idle']);
    expect(hits('-rate>10k')).toEqual(['idle', 'udp']);
    expect(hits('dir:out rate>1k')).toEqual(['busy']);
  });
});
