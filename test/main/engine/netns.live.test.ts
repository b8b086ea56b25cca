import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyTables, parseSockstat } from '../../../src/main/engine/sources/procNet';
import type { Socket } from '../../../src/shared/model';
import { spawnReady, type Child } from '../../helpers/children';
import { canNetns, Netns } from '../../helpers/netns';

describe('sockstat: which tables can be skipped', () => {
  it('skips only tables whose every socket kind is counted zero', () => {
    const idle = parseSockstat(
      'sockets: used 8\nTCP: inuse 1 orphan 0 tw 0 alloc 1 mem 2\nUDP: inuse 0 mem 0\nTCP6: inuse 0\nUDP6: inuse 3\n',
    );
    expect(idle.TCP).toEqual({ inuse: 1, orphan: 0, tw: 0, alloc: 1, mem: 2 });
    expect([...emptyTables(idle)].sort()).toEqual(['tcp6', 'udp']);
    // a TIME_WAIT of either family keeps both TCP tables
    const tw = parseSockstat('TCP: inuse 0 orphan 0 tw 4 alloc 0 mem 0\nTCP6: inuse 0\n');
    expect(emptyTables(tw).has('tcp6')).toBe(false);
    expect(emptyTables(tw).has('tcp')).toBe(false);
    // unknown or garbled counters: read everything
    expect(emptyTables(parseSockstat('garbage\nTCP6: inuse x\n')).size).toBe(0);
  });

  it('reads this machine’s counters', () => {
    const s = parseSockstat(readFileSync('/proc/net/sockstat', 'latin1'));
    expect(typeof s.TCP?.inuse).toBe('number');
  });
});

describe.runIf(canNetns)('in a network namespace of its own', () => {
  const ns = new Netns('pwtest');
  const kids: Child[] = [];
  const inNs = (...cmd: string[]): string[] => ns.exec(...cmd);
  const list = (): Socket[] => ns.list();

  beforeAll(() => ns.create());
  afterAll(async () => {
    await Promise.all(kids.map((k) => k.stop()));
    ns.remove();
  });

  it('an empty namespace lists nothing', () => {
    expect(list()).toEqual([]);
  });

  it('an IPv6-only and a UDP-only world are listed whole, owners included', async () => {
    const v6 = await spawnReady('ip', inNs('/usr/bin/python3.11', '-c', [
      'import socket,time',
      's=socket.socket(socket.AF_INET6); s.bind(("::1",0)); s.listen()',
      'u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(("127.0.0.1",0))',
      'print(s.getsockname()[1], u.getsockname()[1], flush=True); time.sleep(600)',
    ].join('\n')));
    kids.push(v6);
    const [tcpPort, udpPort] = v6.firstLine.split(' ').map(Number);
    const sockets = list();
    expect(sockets).toHaveLength(2);
    expect(sockets.find((s) => s.protocol === 'tcp')).toMatchObject({ family: 6, localAddress: '::1', localPort: tcpPort, state: 'LISTEN' });
    expect(sockets.find((s) => s.protocol === 'udp')).toMatchObject({ family: 4, localAddress: '127.0.0.1', localPort: udpPort, state: 'UNCONN' });
    for (const s of sockets) expect(s.process?.name).toBe('python3.11');
  });
});
