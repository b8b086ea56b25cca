import { describe, expect, it } from 'vitest';
import { isLoopbackAddress } from '../../src/shared/address';
import { exposureOfAddress } from '../../src/shared/exposure';
import { matchesQuickFilters, type QuickFilters } from '../../src/shared/quickFilters';
import { makeSocket } from '../helpers/sockets';

const listener = makeSocket({ id: 'l', localAddress: '0.0.0.0', localPort: 80 });
const udp = makeSocket({ id: 'u', protocol: 'udp', localAddress: '127.0.0.53', localPort: 53, state: 'UNCONN', listening: true });
const loopConn = makeSocket({
  id: 'c',
  family: 6,
  localAddress: '::ffff:127.0.0.1',
  localPort: 50000,
  remoteAddress: '::ffff:127.0.0.1',
  remotePort: 80,
  state: 'ESTABLISHED',
  listening: false,
});
const out = makeSocket({
  id: 'o',
  localAddress: '10.0.0.2',
  localPort: 50001,
  remoteAddress: '93.184.216.34',
  remotePort: 443,
  state: 'ESTABLISHED',
  listening: false,
});
const all = [listener, udp, loopConn, out];
const shown = (f: QuickFilters): string[] => all.filter((s) => matchesQuickFilters(f, s)).map((s) => s.id);

describe('quick filters: one rule for the UI toggles and the CLI flags', () => {
  it('widen within a kind, narrow across kinds', () => {
    expect(shown({})).toEqual(['l', 'u', 'c', 'o']);
    expect(shown({ listening: true })).toEqual(['l', 'u']);
    expect(shown({ listening: true, tcp: true })).toEqual(['l']);
    expect(shown({ tcp: true, udp: true })).toEqual(['l', 'u', 'c', 'o']);
    expect(shown({ established: true, listening: true, ipv6: true })).toEqual(['c']);
    expect(shown({ hideLoopback: true })).toEqual(['l', 'o']);
  });

  it('one loopback test, IPv4-mapped and scoped forms included', () => {
    for (const a of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['0.0.0.0', '::', '10.0.0.1', 'fe80::1%lo', '', null, undefined, 'not an address', '::ffff:10.0.0.1'])
      expect(isLoopbackAddress(a), String(a)).toBe(false);
    expect(exposureOfAddress('::ffff:127.0.0.1')).toBe('loopback');
    expect(exposureOfAddress('::ffff:0.0.0.0')).toBe('all');
    expect(exposureOfAddress('fe80::1%eth0')).toBe('interface');
  });
});

describe('RateWindow: the one rate limit', () => {
  it('takes at most limit events in any window, and has room again as they age out', async () => {
    const { RateWindow } = await import('../../src/shared/rateWindow');
    const w = new RateWindow(2, 1000);
    expect([w.take(0), w.take(10), w.take(20)]).toEqual([true, true, false]);
    expect(w.count(999)).toBe(2);
    expect(w.take(1000)).toBe(true); // the first aged out at exactly one window
    w.record(1001); // recorded even when full
    expect(w.count(1001)).toBe(3);
    expect(w.count(5000)).toBe(0);
  });
});

describe('hideTimeWait and exposed', () => {
  const tw = makeSocket({
    id: 'tw',
    localAddress: '127.0.0.1',
    localPort: 40000,
    remoteAddress: '127.0.0.1',
    remotePort: 80,
    state: 'TIME_WAIT',
    listening: false,
  });
  const bound = makeSocket({ id: 'lo-dev', localAddress: '0.0.0.0', localPort: 81, interface: 'lo' });
  const some = [listener, udp, loopConn, out, tw, bound];
  const pick = (f: QuickFilters): string[] => some.filter((s) => matchesQuickFilters(f, s)).map((s) => s.id);

  it('hides only TIME_WAIT', () => {
    expect(pick({ hideTimeWait: true })).toEqual(['l', 'u', 'c', 'o', 'lo-dev']);
  });

  it('keeps listeners beyond loopback: not 127.0.0.53, not one bound to lo, no connections', () => {
    expect(pick({ exposed: true })).toEqual(['l']);
  });
});
