import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeTcpConnection } from '../../../src/main/engine/closeConnection';
import type { Socket } from '../../../src/shared/model';
import { spawnReady, type Child } from '../../helpers/children';
import { canNetns, Netns } from '../../helpers/netns';

describe.runIf(canNetns)('closing one TCP connection with ss -K, in a namespace of its own', () => {
  const ns = new Netns('pwclose');
  const kids: Child[] = [];
  const inNs = (...cmd: string[]): string[] => ns.exec(...cmd);
  const list = async (): Promise<Socket[]> => ns.list();

  beforeAll(() => ns.create());
  afterAll(async () => {
    await Promise.all(kids.map((k) => k.stop()));
    ns.remove();
  });

  it('closes exactly that connection, confirms it is gone, and leaves its sibling', async () => {
    // a server with two clients; the first connection is closed, the second must live on
    const pair = await spawnReady(
      'ip',
      inNs(
        '/usr/bin/python3.11',
        '-c',
        [
          'import socket, time',
          's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()',
          'a = socket.create_connection(s.getsockname()); b = socket.create_connection(s.getsockname())',
          'x, _ = s.accept(); y, _ = s.accept()',
          'print(s.getsockname()[1], a.getsockname()[1], b.getsockname()[1], flush=True); time.sleep(600)',
        ].join('\n'),
      ),
    );
    kids.push(pair);
    const [server, first, second] = pair.firstLine.split(' ').map(Number) as [number, number, number];
    const before = await list();
    const target = before.find((s) => s.localPort === first && s.remotePort === server) as Socket;
    expect(target.state).toBe('ESTABLISHED');
    // as the API closes: ss is asked again for that one tuple (no /proc read on the caller's thread)
    const out = await closeTcpConnection(target, { command: ['ip', ...inNs('ss')] });
    expect(out).toEqual({ result: 'closed', id: target.id });
    const after = await list();
    expect(after.some((s) => s.id === target.id && s.state === 'ESTABLISHED')).toBe(false);
    expect(after.some((s) => s.localPort === second && s.remotePort === server && s.state === 'ESTABLISHED')).toBe(true);
    expect(after.some((s) => s.localPort === server && s.state === 'LISTEN')).toBe(true);
  });

  it('refuses what is not a connected TCP socket, and says when it could not close', async () => {
    const listener = { id: 'x', protocol: 'tcp', listening: true, state: 'LISTEN', remoteAddress: null, remotePort: null } as unknown as Socket;
    expect(await closeTcpConnection(listener, { listAgain: list })).toMatchObject({ result: 'refused', code: 'invalid' });
    const udp = { ...listener, protocol: 'udp', listening: false, remoteAddress: '127.0.0.1', remotePort: 53 } as unknown as Socket;
    expect(await closeTcpConnection(udp, { listAgain: list })).toMatchObject({ result: 'refused', code: 'invalid' });
    const ghost = {
      ...listener,
      listening: false,
      state: 'ESTABLISHED',
      localAddress: '127.0.0.1',
      localPort: 1,
      remoteAddress: '127.0.0.1',
      remotePort: 2,
    } as unknown as Socket;
    // ss finds nothing to close; the re-list still shows it (as the stand-in says): not closed, and why
    const stubborn = await closeTcpConnection(ghost, { listAgain: async () => [ghost], command: ['ip', ...inNs('ss')] });
    expect(stubborn).toMatchObject({ result: 'refused', code: 'not-closed', reason: expect.stringMatching(/SOCK_DESTROY|CAP_NET_ADMIN/) });
    expect(await closeTcpConnection(ghost, { listAgain: list, platform: 'darwin' })).toMatchObject({ result: 'refused', code: 'unsupported' });
    expect(await closeTcpConnection(ghost, { listAgain: list, command: ['/nonexistent/ss'] })).toMatchObject({ result: 'refused', code: 'unsupported' });
  });
});
