import { describe, expect, it } from 'vitest';
import { DEV_PORTS, devPortFor, serviceLabel } from '../../src/shared/devPorts';
import { serviceFor } from '../../src/shared/services';

describe('devPorts: the ports developers meet, before the IANA name', () => {
  it('names the dev ports first and keeps the registry entry visible beside them', () => {
    expect(serviceLabel(3000, 'tcp')?.text).toBe('Dev server (IANA: remoteware-cl)');
    expect(serviceLabel(5432, 'tcp')?.text).toBe('PostgreSQL'); // IANA says postgresql: the same name
    expect(serviceLabel(8080, 'tcp')?.text).toBe('HTTP alternate (IANA: http-alt)');
    expect(serviceLabel(53, 'udp')?.text).toBe('DNS (IANA: domain)');
    // the title says what usually listens there and what IANA registered
    expect(serviceLabel(3000, 'tcp')?.title).toBe(
      'Dev server: usually Node, Express, Next.js, Create React App, Rails, Grafana\nIANA: remoteware-cl (RemoteWare Client)',
    );
  });

  it('says the registry has no entry where it has none (5173, 9229), and omits it where it says the same (ssh)', () => {
    expect(serviceFor(5173, 'tcp')).toBeUndefined();
    expect(serviceLabel(5173, 'tcp')).toEqual({
      text: 'Vite dev server',
      title: 'Vite dev server: usually vite (Vue, Svelte, React templates)\nIANA: no entry',
    });
    expect(serviceLabel(9229, 'tcp')?.text).toBe('Node inspector');
    expect(serviceLabel(22, 'tcp')?.text).toBe('SSH');
    expect(serviceLabel(27017, 'tcp')?.text).toBe('MongoDB');
  });

  it('goes by transport: a TCP dev port is not a UDP one; MPTCP counts as TCP, UDP-Lite as UDP, raw sockets have none', () => {
    expect(devPortFor(3000, 'udp')).toBeUndefined();
    expect(serviceLabel(3000, 'udp')?.text).toBe('remoteware-cl');
    expect(devPortFor(6379, 'mptcp')?.name).toBe('Redis');
    expect(devPortFor(5353, 'udplite')?.name).toBe('mDNS');
    expect(serviceLabel(80, 'raw')).toBeNull();
    expect(serviceLabel(48213, 'tcp')).toBeNull();
    // a port outside the list keeps the registry's name alone
    expect(serviceLabel(873, 'tcp')).toEqual({ text: 'rsync', title: 'IANA: rsync (rsync)' });
  });

  it('lists each port and transport once, with short names that fit a cell', () => {
    const keys = DEV_PORTS.flatMap((d) => d.protocols.map((t) => `${d.port}/${t}`));
    expect(new Set(keys).size).toBe(keys.length);
    for (const d of DEV_PORTS) {
      expect(Number.isInteger(d.port) && d.port > 0 && d.port < 65536).toBe(true);
      expect(d.name.length).toBeLessThanOrEqual(20);
    }
    // the ports issue 14 names are all there
    for (const p of [
      3000, 5173, 9229, 5432, 6379, 8080, 27017, 3306, 5000, 8000, 4200, 9000, 11211, 9200, 2375, 2376, 6443, 1433, 5672, 9092, 8443, 8888, 3389, 5900, 53, 22,
      80, 443,
    ])
      expect(devPortFor(p, p === 53 ? 'udp' : 'tcp'), String(p)).toBeDefined();
  });
});
