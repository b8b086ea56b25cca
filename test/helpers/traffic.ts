import { readFileSync } from 'node:fs';

/**
 * Node: a TCP listener on loopback and a client of it that writes `chunk` bytes every 20 ms (both ends are this
 * process), and a connected UDP pair that sends 500 bytes every 20 ms. Prints "tcpPort udpClientPort".
 */
export const MOVER = `
const net = require('net');
const dgram = require('dgram');
const chunk = Number(process.argv[1]);
const srv = net.createServer((c) => { c.on('data', () => {}); c.on('error', () => {}); }).listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  const c = net.connect(port, '127.0.0.1', () => {
    if (chunk > 0) setInterval(() => c.write(Buffer.alloc(chunk)), 20);
    const a = dgram.createSocket('udp4');
    a.bind(0, '127.0.0.1', () => {
      const b = dgram.createSocket('udp4');
      b.connect(a.address().port, '127.0.0.1', () => {
        if (chunk > 0) setInterval(() => b.send(Buffer.alloc(500)), 20);
        console.log(port, b.address().port);
      });
    });
  });
  c.on('error', () => {});
});
`;

export const ACCT = '/proc/sys/net/netfilter/nf_conntrack_acct';
/** The switch of the calling thread's namespace; null where conntrack is not loaded. */
export const readAcct = (): string | null => {
  try {
    return readFileSync(ACCT, 'latin1').trim();
  } catch {
    return null;
  }
};
