import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { exactRequest, tcpSocketUid } from '../../../src/main/engine/netlink/lookup';
import { peerUid } from '../../../src/main/server/peer';
import ipaddr from 'ipaddr.js';
import { spawnReady, type Child } from '../../helpers/children';

const NOBODY = 65534;

/** A loopback server in this (root) process; resolves with it once it listens on `host`. */
function listen(host: string): Promise<Server> {
  return new Promise((resolve) => {
    const s = createServer(() => undefined);
    s.listen(0, host, () => resolve(s));
  });
}

/** A client as user nobody connected to host:port: prints its own address and port, then holds. */
function nobodyClient(host: string, port: number): Promise<Child> {
  const py = `import socket, sys\nfam = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET\nc = socket.socket(fam); c.connect((sys.argv[1], int(sys.argv[2])))\nprint(c.getsockname()[0], c.getsockname()[1], flush=True)\nsys.stdin.read()`;
  return spawnReady('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '/usr/bin/python3.11', '-c', py, host, String(port)], {
    stdin: true,
  });
}

describe('one socket by its tuple, asked of the kernel (sock_diag without a dump)', () => {
  const servers: Server[] = [];
  const kids: Child[] = [];
  afterEach(async () => {
    await Promise.all(kids.splice(0).map((k) => k.stop()));
    for (const s of servers.splice(0)) s.close();
  });

  for (const host of ['127.0.0.1', '::1']) {
    it(`names the owner of each end of a ${host} connection, as the /proc scan does`, async () => {
      const server = await listen(host);
      servers.push(server);
      const port = (server.address() as { port: number }).port;
      const client = await nobodyClient(host, port);
      kids.push(client);
      const [address, clientPort] = client.firstLine.split(' ') as [string, string];
      const clientEnd = { address, port: Number(clientPort) };
      const serverEnd = { address: host, port };
      // the client's socket is nobody's, the server's accepted one is root's
      expect(tcpSocketUid(clientEnd, serverEnd)).toBe(NOBODY);
      expect(tcpSocketUid(serverEnd, clientEnd)).toBe(0);
      // the same answer as the /proc scan
      expect(peerUid(clientEnd, serverEnd, { netlink: false })).toBe(NOBODY);
      expect(peerUid(clientEnd, serverEnd)).toBe(NOBODY);
      // no such socket: null, not a guess
      expect(tcpSocketUid({ ...clientEnd, port: clientEnd.port === 1 ? 2 : 1 }, serverEnd)).toBeNull();
    });
  }

  it('an IPv4 client of a dual-stack server is found in its IPv4-mapped form', async () => {
    const server = await listen('::');
    servers.push(server);
    const port = (server.address() as { port: number }).port;
    const client = await nobodyClient('127.0.0.1', port);
    kids.push(client);
    const [address, clientPort] = client.firstLine.split(' ') as [string, string];
    // the server sees its peer as ::ffff:127.0.0.1 and itself as ::ffff:127.0.0.1
    expect(tcpSocketUid({ address: `::ffff:${address}`, port: Number(clientPort) }, { address: '::ffff:127.0.0.1', port })).toBe(NOBODY);
  });

  it('refuses what is not an address without asking', () => {
    expect(tcpSocketUid({ address: 'not an address', port: 1 }, { address: '127.0.0.1', port: 2 })).toBeNull();
    expect(tcpSocketUid({ address: '127.0.0.1', port: 1 }, { address: '', port: 2 })).toBeNull();
  });

  it('lays out the request as the kernel reads it: ports and addresses in network order, no cookie', () => {
    const b = exactRequest(7, 4, ipaddr.parse('127.0.0.1'), 0x1234, ipaddr.parse('10.1.2.3'), 80);
    expect(b.length).toBe(72);
    expect(b.readUInt32LE(0)).toBe(72);
    expect(b.readUInt16LE(6)).toBe(1); // NLM_F_REQUEST only: no dump
    expect([b[16], b[17]]).toEqual([2, 6]); // AF_INET, TCP
    expect(b.subarray(24, 28)).toEqual(Buffer.from([0x12, 0x34, 0, 80]));
    expect([...b.subarray(28, 32)]).toEqual([127, 0, 0, 1]);
    expect([...b.subarray(44, 48)]).toEqual([10, 1, 2, 3]);
    expect(b.readUInt32LE(64)).toBe(0xffffffff);
    expect(b.readUInt32LE(68)).toBe(0xffffffff);
  });
});
