import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket as TcpSocket } from 'node:net';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressDecoder, parseProcNet } from '../../../src/main/engine/sources/procNet';
import type { Family, Protocol } from '../../../src/shared/model';
import { runPortwatch, type CliRun } from '../../helpers/cli';
import { ROOT } from '../../helpers/paths';

/**
 * ss's and lsof's habits, as whole processes of bin/portwatch against real sockets of this test process: a TCP
 * listener on loopback (with a connection to it), one on every interface, a UDP socket on loopback.
 */

/** The table's rows as `PROTO LOCAL REMOTE STATE` (the rest of a row is the owner). */
function rows(r: CliRun): string[] {
  return r.stdout
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/).slice(0, 4).join(' '));
}

/** A port from 900 to 1023 that no socket of this network namespace has as its local or remote port. */
function unusedPrivilegedPort(): number {
  const used = new Set<number>();
  const decoder = new AddressDecoder(endianness() === 'LE');
  const tables: Array<[Protocol, Family]> = [
    ['tcp', 4],
    ['tcp', 6],
    ['udp', 4],
    ['udp', 6],
    ['udplite', 4],
    ['udplite', 6],
    ['raw', 4],
    ['raw', 6],
  ];
  for (const [protocol, family] of tables) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${protocol}${family === 6 ? '6' : ''}`, 'latin1');
    } catch {
      continue; // no such table here
    }
    for (const r of parseProcNet(text, protocol, family, decoder).rows) {
      used.add(r.localPort);
      if (r.remotePort !== null) used.add(r.remotePort);
    }
  }
  for (let p = 900; p < 1024; p++) if (!used.has(p)) return p;
  throw new Error('every port from 900 to 1023 is in use');
}

describe('portwatch CLI habits (ss, netstat, lsof)', { timeout: 60_000 }, () => {
  let loopback: Server;
  let everywhere: Server;
  let udp: UdpSocket;
  let client: TcpSocket;
  let lo: number;
  let all: number;
  let u: number;
  let clientPort: number;
  /**
   * A port nothing uses: a privileged one that no socket has now. None is ever handed out by bind(0) or as an
   * ephemeral port, so no test running beside this one takes it meanwhile (one closed after binding it was
   * reused as the port of another test's connection, whose TIME_WAIT then matched).
   */
  let free: number;

  const listen = (host: string): Promise<Server> =>
    new Promise((resolve) => {
      const s = createServer((c) => c.on('error', () => undefined));
      s.listen(0, host, () => resolve(s));
    });
  const portOf = (s: Server): number => (s.address() as { port: number }).port;

  beforeAll(async () => {
    loopback = await listen('127.0.0.1');
    everywhere = await listen('0.0.0.0');
    lo = portOf(loopback);
    all = portOf(everywhere);
    udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
    u = udp.address().port;
    client = await new Promise<TcpSocket>((resolve) => {
      const c = connect(lo, '127.0.0.1', () => resolve(c));
    });
    clientPort = client.localPort as number;
    free = unusedPrivilegedPort();
  });
  afterAll(async () => {
    client?.destroy();
    udp?.close();
    await Promise.all([loopback, everywhere].map((s) => new Promise((r) => s?.close(r))));
  });

  it('--version and -V print the version, exit 0, from the entry alone', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) expect(await runPortwatch([flag]), flag).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('did you mean: a mistyped command or flag names the one meant, exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['lsit'], /unknown command 'lsit' \(did you mean 'list'\?\)/],
      [['wacth', '--json'], /unknown command 'wacth' \(did you mean 'watch'\?\)/],
      [['kil', '1'], /did you mean 'kill'\?/],
      [['list', '--listn'], /Unknown option '--listn' \(did you mean '--listen'\?\)/],
      [['list', '--jsno'], /did you mean '--json'\?/],
      [['watch', '--intervall', '1000'], /did you mean '--interval'\?/],
      [['kill', '--yse', '1'], /did you mean '--yes'\?/],
      [['-tulpn'], /'-tulpn' is not a command; flags go after one, as in: portwatch list -tulpn/],
      [['list', '-x'], /Unknown option '-x': Unix sockets are not listed/],
      [['list', '-tulpnx'], /Unknown option '-x': Unix sockets/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runPortwatch(args)));
    cases.forEach(([args, message], i) => {
      const r = runs[i] as CliRun;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr, args.join(' ')).toMatch(/--help' for usage/);
    });
  });

  it('ss short flags, bundled as ss users type them: -tulpn, -tlnp, -lt, -uan, -ta; -n and -p accepted', async () => {
    const listenerLo = `tcp 127.0.0.1:${lo} * LISTEN`;
    const listenerAll = `tcp 0.0.0.0:${all} * LISTEN`;
    const udpRow = `udp 127.0.0.1:${u} * UNCONN`;
    const connected = `tcp 127.0.0.1:${clientPort} 127.0.0.1:${lo} ESTABLISHED`;
    const [tulpn, tlnp, lt, uan, t, ta, tcp] = await Promise.all(
      [['-tulpn'], ['-tlnp'], ['-lt'], ['-uan', '--port', String(u)], ['-t'], ['-ta'], ['--tcp']].map((f) => runPortwatch(['list', ...f])),
    );
    for (const r of [tulpn, tlnp, lt, uan, t, ta, tcp]) expect(r?.code, r?.stderr).toBe(0);
    expect(rows(tulpn as CliRun)).toEqual(expect.arrayContaining([listenerLo, listenerAll, udpRow]));
    expect(rows(tulpn as CliRun)).not.toContain(connected);
    for (const r of [tlnp, lt]) {
      expect(rows(r as CliRun)).toEqual(expect.arrayContaining([listenerLo, listenerAll]));
      expect(rows(r as CliRun).every((row) => row.startsWith('tcp') && row.endsWith('LISTEN'))).toBe(true);
    }
    expect(rows(uan as CliRun)).toEqual([udpRow]);
    // ss -t: connections, not listeners; -a: both; Portwatch's own --tcp: every state, as before
    expect(rows(t as CliRun)).toContain(connected);
    expect(rows(t as CliRun).some((row) => row.endsWith('LISTEN'))).toBe(false);
    expect(rows(ta as CliRun)).toEqual(expect.arrayContaining([listenerLo, connected]));
    expect(rows(tcp as CliRun)).toEqual(expect.arrayContaining([listenerLo, connected]));
  });

  it('--exposed: listening beyond loopback only', async () => {
    const exposed = await runPortwatch(['list', '--exposed']);
    expect(exposed.code).toBe(0);
    expect(rows(exposed)).toContain(`tcp 0.0.0.0:${all} * LISTEN`);
    expect(rows(exposed).some((row) => row.includes(`:${lo} `))).toBe(false);
    const none = await runPortwatch(['list', '--exposed', '--port', String(lo)]);
    expect(none.code).toBe(1);
  });

  it('lsof habit: nothing matched exits 1 with a note on stderr; something matched exits 0', async () => {
    const table = await runPortwatch(['list', '--port', String(free)]);
    expect(table).toMatchObject({ code: 1, stdout: '' });
    expect(table.stderr).toMatch(/^portwatch list: nothing matches \(\d+ sockets? looked at\)\n$/);
    const json = await runPortwatch(['list', '--json', '-tl', '--port', String(free)]);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as { sockets: unknown[] }).sockets).toEqual([]);
    const some = await runPortwatch(['list', '--port', String(lo)]);
    expect(some.code).toBe(0);
    expect(rows(some)).toContain(`tcp 127.0.0.1:${lo} * LISTEN`);
  });

  it('trailing words are a query, as ss takes its filter; a bad one is a usage error', async () => {
    const words = await runPortwatch(['list', '-t', 'state:established', `lport:${clientPort}`]);
    expect(words.code, words.stderr).toBe(0);
    expect(rows(words)).toEqual([`tcp 127.0.0.1:${clientPort} 127.0.0.1:${lo} ESTABLISHED`]);
    const bad = await runPortwatch(['list', 'state:bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/portwatch list: filter "state:bogus": /);
  });
});
