import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Alerts } from '../../../src/main/api/alerts';
import { EngineApi } from '../../../src/main/api/engineApi';
import { Monitor } from '../../../src/main/engine/monitor';
import type { Alert } from '../../../src/shared/api';
import { rulesFor, type BaselineRule } from '../../../src/shared/baseline';
import type { Socket } from '../../../src/shared/model';
import { makeProcess, makeSocket } from '../../helpers/sockets';

const listener = (port: number, name = 'nc', address = '0.0.0.0'): Socket =>
  makeSocket({
    id: `tcp|${address}|${port}|*|*|${port}`,
    localAddress: address,
    localPort: port,
    pid: 42,
    pids: [42],
    process: makeProcess(42, name, { startTime: 1 }),
  });
const delta = (seq: number, added: Socket[]) => ({ seq, takenAt: seq, added, removed: [], changed: [], closed: [] });

describe('Alerts', () => {
  function make(rules: BaselineRule[] = []) {
    const clock = { t: 1_000_000 };
    const got: Alert[] = [];
    const alerts = new Alerts({ rules: () => rules, onAlert: (a) => got.push(a), now: () => clock.t });
    return { alerts, got, clock };
  }

  it('alerts once for an unexpected listener that appears; not for what was there at start, nor expected ones', () => {
    const { alerts, got } = make([{ process: 'sshd', port: 22 }]);
    alerts.snapshot({ seq: 1, takenAt: 1, source: 'procfs', sockets: [listener(8080)] });
    alerts.delta(delta(2, [listener(22, 'sshd'), listener(6379, 'redis-server')]));
    alerts.delta(delta(3, [])); // it held for two polls
    expect(got.map((a) => [a.localPort, a.process, a.exposure, a.notify])).toEqual([[6379, 'redis-server', 'all', true]]);
    expect(got[0]?.risk).toMatch(/Redis/);
    expect(got[0]?.message).toBe('redis-server (pid 42) listens on tcp 0.0.0.0:6379, reachable on every interface');
    expect(alerts.all()).toHaveLength(1);
  });

  it('a flapping listener does not repeat within the quiet period, and does after it', () => {
    const { alerts, got, clock } = make();
    alerts.delta(delta(2, [listener(9000)]));
    for (let i = 0; i < 5; i++) {
      clock.t += 60_000;
      alerts.delta(delta(3 + i, [listener(9000)])); // closed and opened again between polls
    }
    expect(got).toHaveLength(1);
    clock.t += 10 * 60_000 + 1;
    alerts.delta(delta(9, [listener(9000)]));
    alerts.delta(delta(10, []));
    expect(got).toHaveLength(2);
  });

  it('severity by exposure: all interfaces high and notified, one interface medium, loopback low, neither notified', () => {
    const { alerts, got } = make();
    alerts.delta(
      delta(2, [listener(9001, 'nc', '0.0.0.0'), listener(9002, 'nc', '192.168.1.5'), listener(9003, 'nc', '127.0.0.1'), listener(9004, 'nc', '::1')]),
    );
    alerts.delta(delta(3, []));
    expect(got.map((a) => [a.localPort, a.severity, a.notify])).toEqual([
      [9001, 'high', true],
      [9002, 'medium', false],
      [9003, 'low', false],
      [9004, 'low', false],
    ]);
    // eight more on loopback in one poll: none notifies (there is no budget to spend: loopback never notifies)
    alerts.delta(
      delta(
        4,
        Array.from({ length: 8 }, (_, i) => listener(10_000 + i, 'nc', '127.0.0.1')),
      ),
    );
    alerts.delta(delta(5, []));
    expect(got.slice(4).map((a) => [a.severity, a.notify])).toEqual(Array.from({ length: 8 }, () => ['low', false]));
  });
});

describe('baseline through the API', () => {
  it('marks a listener expected, accepts all, and reports a broken file as a value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-api-baseline-'));
    try {
      const path = join(dir, 'baseline.json');
      const sockets = [listener(8080), listener(53, 'dnsmasq', '127.0.0.1')];
      const monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets, warnings: [] }) } });
      await monitor.pollOnce();
      const d = new EngineApi(monitor, { baselinePath: path });
      expect(await d.call('getBaseline', [])).toEqual({ ok: true, value: { ok: true, path, exists: false, rules: [] } });
      expect(await d.call('markExpected', ['nope'])).toMatchObject({ ok: false, code: 'bad-request' });
      expect(await d.call('markExpected', [42])).toMatchObject({ ok: false, code: 'bad-request' });
      const marked = await d.call('markExpected', [sockets[0]!.id]);
      expect(marked).toMatchObject({ ok: true, value: { exists: true, rules: [{ process: 'nc', protocol: 'tcp', port: 8080, exposure: 'all' }] } });
      const all = await d.call('acceptAllListeners', [rulesFor(sockets)]);
      expect(all.ok && (all.value as { rules: unknown[] }).rules).toHaveLength(2);
      writeFileSync(path, '{ broken');
      const fresh = new EngineApi(monitor, { baselinePath: path });
      expect(await fresh.call('getBaseline', [])).toMatchObject({ ok: true, value: { ok: false, message: expect.stringMatching(/not valid JSON/) } });
      expect(await fresh.call('acceptAllListeners', [[{ port: 1 }]])).toMatchObject({
        ok: false,
        code: 'internal',
        message: expect.stringMatching(/kept as it is/),
      });
      await monitor.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kill and close through the API', () => {
  it('validates arguments, answers refusals as values, and logs every attempt', async () => {
    const monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [listener(8080)], warnings: [] }) } });
    await monitor.pollOnce();
    const d = new EngineApi(monitor);
    const actions: unknown[] = [];
    d.subscribe((m) => m.event === 'action' && actions.push(m.payload));
    for (const bad of [
      [],
      ['1', null, false],
      [NaN, null, false],
      [-3, null, false],
      [1.5, null, false],
      [5, 'yesterday', false],
      [5, null, 'yes'],
      [5, null, false, 'extra'],
      [[5], null, false],
    ]) {
      expect(await d.call('killProcess', bad), JSON.stringify(bad)).toMatchObject({ ok: false, code: 'bad-request' });
    }
    expect(await d.call('killProcess', [1, null, false])).toMatchObject({ ok: true, value: { result: 'refused', code: 'protected' } });
    expect(await d.call('killProcess', [process.pid, null, true])).toMatchObject({
      ok: true,
      value: { result: 'refused', reason: 'that is Portwatch itself' },
    });
    expect(await d.call('closeConnection', ['no-such-socket'])).toMatchObject({ ok: false, code: 'bad-request' });
    expect(await d.call('closeConnection', [listener(8080).id])).toMatchObject({ ok: true, value: { result: 'refused', code: 'invalid' } });
    const log = await d.call('getActionLog', []);
    expect(log.ok && (log.value as Array<{ kind: string; result: string }>).map((e) => [e.kind, e.result])).toEqual([
      ['kill', 'refused'],
      ['kill', 'refused'],
      ['close', 'refused'],
    ]);
    expect(actions).toHaveLength(3);
    await monitor.stop();
  });
});
