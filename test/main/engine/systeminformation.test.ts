import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeSiConnections, SystemInformationSource } from '../../../src/main/engine/sources/systeminformation';
import type { Socket } from '../../../src/shared/model';
import { FIXTURES } from '../../helpers/paths';
import { replayNetworkConnections } from '../../helpers/siReplay';

const fx = (name: string): string => readFileSync(join(FIXTURES, 'si', name), 'utf8');

function find(sockets: Socket[], where: Partial<Socket>): Socket {
  const hit = sockets.find((s) => Object.entries(where).every(([k, v]) => s[k as keyof Socket] === v));
  if (!hit) throw new Error(`no socket like ${JSON.stringify(where)} in\n${sockets.map((s) => s.id).join('\n')}`);
  return hit;
}

describe('systeminformation replay harness', () => {
  it('reproduces what systeminformation really returned on this machine from the recorded netstat output', async () => {
    const { rows, commands } = await replayNetworkConnections('linux', (cmd) => (cmd.includes('netstat -tunap') ? fx('linux-netstat.txt') : null));
    expect(commands).toHaveLength(1);
    expect(rows).toEqual(JSON.parse(fx('linux-si.json')));
  });
});

describe('normalizeSiConnections', () => {
  it('Linux (netstat path): numeric ports, no invented addresses, cut IPv6 flagged', async () => {
    const rows = JSON.parse(fx('linux-si.json'));
    const { sockets, warnings } = normalizeSiConnections(rows, 'linux');
    expect(warnings).toEqual([]);
    expect(sockets).toHaveLength(rows.length);
    const l = find(sockets, { localPort: 8081, state: 'LISTEN' });
    expect(l).toMatchObject({ protocol: 'tcp', family: 4, localAddress: '0.0.0.0', remoteAddress: null, remotePort: null, listening: true, pid: 3086 });
    const tw = find(sockets, { state: 'TIME_WAIT' });
    expect(tw).toMatchObject({ pid: null, pids: [], remoteAddress: '127.0.0.1', remotePort: 8081 });
    const v6any = find(sockets, { localPort: 8083 });
    expect(v6any).toMatchObject({ family: 6, localAddress: '::', remoteAddress: null });
    expect(v6any.incomplete).toBeUndefined();
    // netstat cut fd00:1234:5678:9abc:def0:1234:5678:9abc to fd00:1234:5678:9ab: kept as given, flagged, never completed
    const cut = find(sockets, { localPort: 8443, state: 'LISTEN' });
    expect(cut.incomplete).toBe(true);
    expect(cut.localAddress).toBe('fd00:1234:5678:9ab');
    for (const s of sockets) expect(Number.isInteger(s.localPort)).toBe(true);
    const udp = find(sockets, { protocol: 'udp', localPort: 40000 });
    expect(udp).toMatchObject({ state: 'ESTABLISHED', listening: false, remotePort: 5353 });
    expect(new Set(sockets.map((s) => s.id)).size).toBe(sockets.length);
  });

  it('Linux (ss fallback path): brackets stripped, states mapped', async () => {
    const { rows } = await replayNetworkConnections('linux', (cmd) => (cmd.startsWith('ss ') ? fx('linux-ss.txt') : null));
    expect(rows.length).toBeGreaterThan(5);
    const { sockets, warnings } = normalizeSiConnections(rows, 'linux');
    expect(warnings).toEqual([]);
    for (const s of sockets) expect(s.localAddress).not.toMatch(/[[\]]/);
    expect(find(sockets, { localPort: 8082, state: 'LISTEN' })).toMatchObject({ family: 6, localAddress: '::1' });
    expect(find(sockets, { localPort: 8082, state: 'CLOSE_WAIT' })).toMatchObject({ remoteAddress: '::1' });
  });

  it('Windows (netstat -nao, written from the documented format): header dropped, UDP unconnected, pid 0 is no owner', async () => {
    const { rows } = await replayNetworkConnections('win32', (cmd) => (cmd === 'netstat -nao' ? fx('windows-netstat-nao.txt') : null));
    // systeminformation returns the column header as a connection
    expect(rows.some((r) => String(r.protocol).toLowerCase() === 'proto')).toBe(true);
    const { sockets, warnings } = normalizeSiConnections(rows, 'win32');
    expect(warnings).toEqual([]);
    expect(sockets.some((s) => String(s.protocol) === 'proto')).toBe(false);
    expect(find(sockets, { localPort: 135, family: 6 })).toMatchObject({ localAddress: '::', state: 'LISTEN', remoteAddress: null, pid: 1004 });
    expect(find(sockets, { localPort: 443, state: 'LISTEN', family: 6 })).toMatchObject({ localAddress: 'fd00:1234:5678:9abc:def0:1234:5678:9abc', pid: 7001 });
    const full = find(sockets, { localPort: 51055 });
    expect(full).toMatchObject({ remoteAddress: 'fd00:1234:5678:9abc:def0:1234:5678:9abc', remotePort: 443, state: 'ESTABLISHED' });
    expect(find(sockets, { localPort: 51060 })).toMatchObject({ localAddress: 'fe80::1c2d:3e4f:5a6b:7c8d%12', remoteAddress: 'fe80::a8bb:ccff:fedd:eeff%12' });
    expect(find(sockets, { state: 'TIME_WAIT' })).toMatchObject({ pid: null, pids: [] });
    expect(find(sockets, { protocol: 'udp', localPort: 123 })).toMatchObject({
      state: 'UNCONN',
      listening: true,
      remoteAddress: null,
      remotePort: null,
      pid: 2632,
    });
    expect(find(sockets, { protocol: 'udp', localPort: 61399 })).toMatchObject({ state: 'ESTABLISHED', remoteAddress: '203.0.113.10', remotePort: 443 });
    for (const s of sockets) expect(s.incomplete).toBeUndefined();
  });

  for (const file of ['macos-netstat.txt', 'macos15-netstat.txt']) {
    it(`macOS (${file}, written from the documented format): dotted ports, wildcards, macOS state names`, async () => {
      const { rows } = await replayNetworkConnections('darwin', (cmd) =>
        cmd.startsWith('ps ') ? fx('macos-ps.txt') : cmd.includes('netstat -natvln') ? fx(file) : null,
      );
      const { sockets, warnings } = normalizeSiConnections(rows, 'darwin');
      expect(warnings).toEqual([]);
      expect(sockets.length).toBeGreaterThan(5);
      const full = find(sockets, { localPort: 53240 });
      expect(full).toMatchObject({ family: 6, localAddress: 'fd00:1234:5678:9abc:def0:1234:5678:9abc', remotePort: 443, pid: 5122 });
      expect(find(sockets, { localPort: 53250 }).state).toBe('FIN_WAIT2');
      for (const s of sockets) {
        expect(s.localAddress).not.toBe('*');
        if (s.protocol === 'udp') expect(['UNCONN', 'ESTABLISHED']).toContain(s.state);
      }
    });
  }

  it('bad rows are reported and skipped, good rows kept', () => {
    const good = { protocol: 'tcp', localAddress: '127.0.0.1', localPort: '80', peerAddress: '0.0.0.0', peerPort: '*', state: 'LISTEN', pid: 5, process: 'x' };
    const rows = [
      good,
      { ...good, localPort: 'http' },
      { ...good, localPort: '70000' },
      { ...good, protocol: 'sctp' },
      { ...good, state: 'BOGUS' },
      null,
      { ...good, pid: NaN, localPort: '81' },
    ];
    const { sockets, warnings } = normalizeSiConnections(rows as never, 'linux');
    expect(sockets.map((s) => [s.localPort, s.pid])).toEqual([
      [80, 5],
      [81, null],
    ]);
    expect(warnings).toHaveLength(5);
    expect(warnings.join('\n')).toMatch(/bad local port "http"[\s\S]*70000[\s\S]*sctp[\s\S]*BOGUS[\s\S]*not an object/);
  });
});

describe('SystemInformationSource live on this machine', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('lists our own listener with our pid and process details', async () => {
    const src = new SystemInformationSource();
    const { sockets } = await src.list();
    const mine = find(sockets, { localPort: port, state: 'LISTEN' });
    expect(mine).toMatchObject({ protocol: 'tcp', localAddress: '127.0.0.1', pid: process.pid });
    expect(mine.process?.pid).toBe(process.pid);
    expect(mine.process?.name).toMatch(/node/);
  });
});
