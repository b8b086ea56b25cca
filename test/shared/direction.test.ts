import { describe, expect, it } from 'vitest';
import { directionOf, LINUX_DEFAULT_PORTS, ListenerIndex, type HostPorts } from '../../src/shared/direction';
import type { Socket } from '../../src/shared/model';
import { makeSocket } from '../helpers/sockets';

const ports: HostPorts = { ephemeral: { min: 32768, max: 60999 }, unprivilegedStart: 1024, known: true };
const listen = (address: string, port: number, protocol: Socket['protocol'] = 'tcp'): Socket =>
  makeSocket({
    id: `${protocol}|${address}|${port}|*|*`,
    protocol,
    localAddress: address,
    localPort: port,
    state: protocol === 'tcp' ? 'LISTEN' : 'UNCONN',
    listening: true,
  });
const conn = (local: string, lport: number, remote: string, rport: number, protocol: Socket['protocol'] = 'tcp'): Socket =>
  makeSocket({
    id: `${protocol}|${local}|${lport}|${remote}|${rport}`,
    protocol,
    family: local.includes(':') ? 6 : 4,
    localAddress: local,
    localPort: lport,
    remoteAddress: remote,
    remotePort: rport,
    state: 'ESTABLISHED',
    listening: false,
  });

describe('directionOf', () => {
  const listeners = new ListenerIndex([
    listen('0.0.0.0', 22),
    listen('127.0.0.1', 5432),
    listen('::', 8080),
    listen('0.0.0.0', 53, 'udp'),
    listen('10.0.0.5', 40000),
  ]);

  it('is in when a listener of the same protocol takes the local address and port', () => {
    expect(directionOf(conn('10.0.0.5', 22, '10.0.0.9', 51000), listeners, ports)).toEqual({ direction: 'in', guessed: false });
    expect(directionOf(conn('::ffff:10.0.0.5', 8080, '::ffff:10.0.0.9', 51000), listeners, ports)).toEqual({ direction: 'in', guessed: false });
    expect(directionOf(conn('127.0.0.1', 5432, '127.0.0.1', 40001), listeners, ports)).toEqual({ direction: 'in', guessed: false });
    // a listener in the ephemeral range still makes its accepted connections in
    expect(directionOf(conn('10.0.0.5', 40000, '10.0.0.9', 51000), listeners, ports)?.direction).toBe('in');
  });

  it('does not take a listener on another address or of another protocol', () => {
    expect(directionOf(conn('10.0.0.5', 5432, '10.0.0.9', 40002), listeners, ports)?.direction).not.toBe('in');
    // UDP to port 22 has no UDP listener there: only a guess (from the ports), never established
    expect(directionOf(conn('10.0.0.5', 22, '10.0.0.9', 40002, 'udp'), listeners, ports)?.guessed).toBe(true);
  });

  it('is out from an ephemeral port, or when the remote end is a listener of this host, even from a fixed low port', () => {
    expect(directionOf(conn('10.0.0.5', 45000, '93.184.216.34', 443), listeners, ports)).toEqual({ direction: 'out', guessed: false });
    expect(directionOf(conn('127.0.0.1', 900, '127.0.0.1', 5432), listeners, ports)).toEqual({ direction: 'out', guessed: false });
    expect(directionOf(conn('10.0.0.5', 900, '10.0.0.9', 8443), listeners, ports)).toEqual({ direction: 'out', guessed: true });
  });

  it('follows the host range, not IANA: 33000 is ephemeral on Linux, 50000 not in a range of 60000-61000', () => {
    expect(directionOf(conn('10.0.0.5', 33000, '1.1.1.1', 443), listeners, ports)).toEqual({ direction: 'out', guessed: false });
    const narrow: HostPorts = { ephemeral: { min: 60000, max: 61000 }, unprivilegedStart: 1024, known: true };
    expect(directionOf(conn('10.0.0.5', 50000, '1.1.1.1', 443), listeners, narrow)).toEqual({ direction: 'out', guessed: true });
    expect(directionOf(conn('10.0.0.5', 60500, '1.1.1.1', 443), listeners, narrow)).toEqual({ direction: 'out', guessed: false });
  });

  it('guesses in for a low local port with an ephemeral peer (a listener that closed), and marks unknown ranges as guesses', () => {
    expect(directionOf(conn('10.0.0.5', 25, '10.0.0.9', 45000), listeners, ports)).toEqual({ direction: 'in', guessed: true });
    expect(directionOf(conn('10.0.0.5', 45000, '1.1.1.1', 443), listeners, LINUX_DEFAULT_PORTS)).toEqual({ direction: 'out', guessed: true });
  });

  it('gives none for listeners', () => {
    expect(directionOf(listen('0.0.0.0', 22), listeners, ports)).toBeNull();
  });
});
