import { describe, expect, it, vi } from 'vitest';
import { EngineApi } from '../../../src/main/api/engineApi';
import { HostNames } from '../../../src/main/api/hostNames';
import { Monitor } from '../../../src/main/engine/monitor';
import type { Socket } from '../../../src/shared/model';
import { waitFor } from '../../helpers/children';
import { makeSocket } from '../../helpers/sockets';

describe('HostNames', () => {
  it('does nothing while off; looks up each address once, a few at a time, and caches hits and misses', async () => {
    const got: Record<string, string> = {};
    let active = 0;
    let maxActive = 0;
    const asked: string[] = [];
    const lookup = async (a: string): Promise<string> => {
      asked.push(a);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      if (a.startsWith('10.')) throw new Error('ENOTFOUND');
      return a === '192.0.2.9' ? a : `host-${a}`; // getnameinfo answers the address itself when it knows no name
    };
    const names = new HostNames((n) => Object.assign(got, n), lookup);
    names.want(['1.1.1.1']);
    expect(asked).toEqual([]);
    names.setEnabled(true);
    const addresses = Array.from({ length: 12 }, (_, i) => `1.1.1.${i}`);
    names.want([...addresses, null, '10.0.0.1', '192.0.2.9', '1.1.1.0']);
    await waitFor(() => (Object.keys(got).length === 12 && active === 0 ? true : undefined), 5000, 'names');
    expect(maxActive).toBeLessThanOrEqual(4);
    expect(got['1.1.1.3']).toBe('host-1.1.1.3');
    expect(got['10.0.0.1']).toBeUndefined();
    expect(got['192.0.2.9']).toBeUndefined();
    const before = asked.length;
    names.want([...addresses, '10.0.0.1', '192.0.2.9']); // asks at once for what it does not know
    expect(asked.length).toBe(before); // all cached, the misses too
    expect(names.known()['1.1.1.5']).toBe('host-1.1.1.5');
  });

  it('a resolver that never answers costs a timeout, not a stuck queue', async () => {
    // the lookups' 3 s timeout on a fake clock: the test proves the order of events, and waits for none
    vi.useFakeTimers();
    try {
      const got: Record<string, string> = {};
      const names = new HostNames(
        (n) => Object.assign(got, n),
        (a) => (a.startsWith('hung') ? new Promise(() => {}) : Promise.resolve(`n-${a}`)),
      );
      names.setEnabled(true);
      names.want(['hung1', 'hung2', 'hung3', 'hung4']); // every slot taken by a lookup that never answers
      names.want(['a']);
      await vi.advanceTimersByTimeAsync(2999);
      expect(got.a).toBeUndefined(); // still queued behind them
      await vi.advanceTimersByTimeAsync(1);
      expect(got.a).toBe('n-a');
    } finally {
      vi.useRealTimers();
    }
  });

  it('through the dispatcher, with the system resolver: loopback is localhost (from /etc/hosts, no network)', async () => {
    const sock: Socket = makeSocket({ id: 'x', localPort: 5000, remoteAddress: '127.0.0.1', remotePort: 80, state: 'ESTABLISHED', listening: false });
    const monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [sock], warnings: [] }) } });
    const d = new EngineApi(monitor);
    const events: unknown[] = [];
    d.subscribe((m) => m.event === 'hostNames' && events.push(m.payload));
    await monitor.pollOnce();
    expect(await d.call('setReverseDns', ['yes'])).toMatchObject({ ok: false, code: 'bad-request' });
    expect(await d.call('setReverseDns', [true])).toEqual({ ok: true, value: true });
    await waitFor(() => events[0], 5000, 'hostNames event');
    expect(events[0]).toEqual({ '127.0.0.1': 'localhost' });
    const state = await d.call('getState', []);
    expect(state).toMatchObject({ ok: true, value: { reverseDns: true, hostNames: { '127.0.0.1': 'localhost' } } });
    await monitor.stop();
  });

  it('reports interface throughput from systeminformation', async () => {
    const monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [], warnings: [] }) } });
    const d = new EngineApi(monitor);
    const r = await d.call('getNetworkRates', []);
    expect(r.ok).toBe(true);
    if (r.ok) {
      const rates = r.value as Array<{ iface: string; rxPerSec: number; txPerSec: number }>;
      expect(rates.length).toBeGreaterThan(0);
      for (const x of rates) {
        expect(typeof x.iface).toBe('string');
        expect(x.rxPerSec).toBeGreaterThanOrEqual(0);
      }
    }
    expect(await d.call('getNetworkRates', [1])).toMatchObject({ ok: false, code: 'bad-request' });
  });
});
