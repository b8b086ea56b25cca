import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Alerts, SNOOZE_MS } from '../../../src/main/api/alerts';
import { EngineApi } from '../../../src/main/api/engineApi';
import { Monitor } from '../../../src/main/engine/monitor';
import { visibleAlerts } from '../../../src/shared/alerts';
import type { Alert, AlertSettings } from '../../../src/shared/api';
import { rulesFor, type BaselineRule } from '../../../src/shared/baseline';
import type { Delta, Socket } from '../../../src/shared/model';
import { makeProcess, makeSocket } from '../../helpers/sockets';

/** Issue 14, items 1 and 2: alerts worth reading (two-poll hold, mute, snooze, clear) and rules accepted as shown. */

const listener = (port: number, address = '0.0.0.0', pid = 42, cmdline = ['python3', 'sneaky.py']): Socket =>
  makeSocket({
    id: `tcp|${address}|${port}|*|*|${port}`,
    localAddress: address,
    localPort: port,
    uid: 1000,
    pid,
    pids: [pid],
    process: makeProcess(pid, 'python3', { exe: '/usr/bin/python3', cmdline, startTime: 1 }),
  });
let seq = 1;
const delta = (added: Socket[], removed: string[] = []): Delta => ({ seq: ++seq, takenAt: seq, added, removed, changed: [], closed: [] });

function make(rules: BaselineRule[] = []) {
  const clock = { t: 1_000_000 };
  const got: Alert[] = [];
  const settings: AlertSettings[] = [];
  const alerts = new Alerts({ rules: () => rules, onAlert: (a) => got.push(a), onSettings: (s) => settings.push(s), now: () => clock.t });
  return { alerts, got, clock, settings };
}

describe('alerts worth reading (issue 14, item 1)', () => {
  it('a listener must hold for two polls: one that appears and is gone by the next poll never alerts', () => {
    const { alerts, got } = make();
    const brief = listener(9100, '127.0.0.1');
    const wide = listener(9200);
    alerts.delta(delta([brief, wide]));
    expect(got).toHaveLength(0); // one poll is not enough
    alerts.delta(delta([], [brief.id]));
    expect(got.map((a) => a.localPort)).toEqual([9200]);
    alerts.delta(delta([]));
    expect(got.map((a) => a.localPort)).toEqual([9200]);
  });

  it('a flood of 100 short-lived loopback listeners beside one on 0.0.0.0: one high alert, one notification', () => {
    const { alerts, got } = make();
    let previous: Socket[] = [];
    for (let i = 0; i < 10; i++) {
      const batch = Array.from({ length: 10 }, (_, j) => listener(20_000 + i * 10 + j, '127.0.0.1', 100 + i * 10 + j));
      alerts.delta(
        delta(
          i === 3 ? [...batch, listener(19066)] : batch,
          previous.map((s) => s.id),
        ),
      );
      previous = batch;
    }
    alerts.delta(
      delta(
        [],
        previous.map((s) => s.id),
      ),
    );
    expect(got.map((a) => [a.localPort, a.severity, a.notify])).toEqual([[19066, 'high', true]]);
  });

  it('names the process as people think of it, with the command line for a tooltip and the socket for "show me"', () => {
    const { alerts, got } = make();
    const s = listener(9300, '0.0.0.0', 123, ['/usr/bin/python3', '-u', '/home/u/sneaky.py', '--port', '9300']);
    alerts.delta(delta([s]));
    alerts.delta(delta([]));
    expect(got[0]).toMatchObject({
      summary: 'python3 sneaky.py',
      commandLine: '/usr/bin/python3 -u /home/u/sneaky.py --port 9300',
      socketId: s.id,
      message: 'python3 sneaky.py (pid 123) listens on tcp 0.0.0.0:9300, reachable on every interface',
    });
  });

  it('mutes a process or a port until unmuted; says what is muted', () => {
    const { alerts, got, settings } = make();
    alerts.mute({ process: 'python3 sneaky.py' });
    alerts.mute({ port: 8080 });
    alerts.mute({ port: 8080 });
    expect(alerts.settings().mutes).toEqual([{ process: 'python3 sneaky.py' }, { port: 8080 }]);
    const other = listener(8080, '0.0.0.0', 77, ['node', 'server.js']);
    alerts.delta(delta([listener(9400), other, listener(9401, '0.0.0.0', 78, ['node', 'server.js'])]));
    alerts.delta(delta([]));
    expect(got.map((a) => a.localPort)).toEqual([9401]);
    alerts.unmute({ process: 'python3 sneaky.py' });
    alerts.delta(delta([listener(9402)]));
    alerts.delta(delta([]));
    expect(got.map((a) => a.localPort)).toEqual([9401, 9402]);
    expect(settings.at(-1)?.mutes).toEqual([{ port: 8080 }]);
  });

  it('snooze: listed, nothing notifies, for an hour; then it notifies again', () => {
    const { alerts, got, clock } = make();
    alerts.snooze(SNOOZE_MS);
    expect(alerts.settings().snoozedUntil).toBe(clock.t + SNOOZE_MS);
    alerts.delta(delta([listener(9500, '0.0.0.0', 1)]));
    alerts.delta(delta([]));
    expect(got.map((a) => [a.severity, a.notify])).toEqual([['high', false]]);
    clock.t += SNOOZE_MS;
    expect(alerts.settings().snoozedUntil).toBeNull();
    alerts.delta(delta([listener(9501, '0.0.0.0', 2, ['nc'])]));
    alerts.delta(delta([]));
    expect(got.map((a) => a.notify)).toEqual([false, true]);
    alerts.snooze(SNOOZE_MS);
    alerts.snooze(0);
    expect(alerts.settings().snoozedUntil).toBeNull();
  });

  it('clear empties the list; a cleared listener does not come back; what clients hold goes by clearedThrough', () => {
    const { alerts, got } = make();
    alerts.delta(delta([listener(9600), listener(9601, '127.0.0.1')]));
    alerts.delta(delta([]));
    expect(alerts.all()).toHaveLength(2);
    const s = alerts.clear();
    expect(alerts.all()).toEqual([]);
    expect(s.clearedThrough).toBe(got.at(-1)?.id);
    expect(visibleAlerts(got, s)).toEqual([]);
    alerts.delta(delta([listener(9600)]));
    alerts.delta(delta([]));
    expect(alerts.all()).toEqual([]);
  });

  it('loopback (low) alerts are hidden from the list people see unless the setting includes them', () => {
    const { alerts, got } = make();
    alerts.delta(delta([listener(9700), listener(9701, '10.1.2.3'), listener(9702, '127.0.0.1')]));
    alerts.delta(delta([]));
    expect(visibleAlerts(got, alerts.settings()).map((a) => a.severity)).toEqual(['high', 'medium']);
    expect(visibleAlerts(got, alerts.setIncludeLoopback(true)).map((a) => a.severity)).toEqual(['high', 'medium', 'low']);
  });
});

describe('alerts and rules through the API', () => {
  async function engine(sockets: Socket[]) {
    const dir = mkdtempSync(join(tmpdir(), 'pw-alert-api-'));
    const path = join(dir, 'baseline.json');
    const monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets, warnings: [] }) } });
    await monitor.pollOnce();
    const api = new EngineApi(monitor, { baselinePath: path });
    const done = async () => {
      api.dispose();
      await monitor.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    return { api, path, done, sockets };
  }

  it('"Accept current listeners" writes exactly the rules it was given, not the listeners there at the click', async () => {
    const { api, path, done, sockets } = await engine([listener(8080), listener(5432, '127.0.0.1')]);
    try {
      const shown = rulesFor(sockets);
      // 21 random-port listeners appear between showing the confirmation and the click
      for (let i = 0; i < 21; i++) sockets.push(listener(40_000 + i, '127.0.0.1', 500 + i));
      const r = await api.call('acceptAllListeners', [shown]);
      expect(r).toMatchObject({ ok: true, value: { rules: shown } });
      expect(JSON.parse(readFileSync(path, 'utf8')).rules).toEqual(shown);
      for (const bad of [[], [[]], [[{}]], [[{ ports: '0-65535' }]], [[{ port: 1, bogus: true }]], ['all']]) {
        expect(await api.call('acceptAllListeners', bad), JSON.stringify(bad)).toMatchObject({ ok: false, code: 'bad-request' });
      }
    } finally {
      await done();
    }
  });

  it('"Mark as expected" with a choice, then edit and remove the rule', async () => {
    const { api, done, sockets } = await engine([listener(8080, '127.0.0.1')]);
    try {
      const id = sockets[0]!.id;
      expect(await api.call('markExpected', [id, { ports: 'any', exposure: 'this' }])).toMatchObject({
        ok: true,
        value: { rules: [{ protocol: 'tcp', exe: '/usr/bin/python3', exposure: 'loopback' }] },
      });
      expect(await api.call('markExpected', [id, { ports: '9000-9999', exposure: 'this' }])).toMatchObject({
        ok: false,
        code: 'bad-request',
        message: /does not hold port 8080/,
      });
      expect(await api.call('markExpected', [id, { ports: 'lots', exposure: 'this' }])).toMatchObject({ ok: false, code: 'bad-request' });
      const old = { protocol: 'tcp', exe: '/usr/bin/python3', exposure: 'loopback' };
      expect(await api.call('editBaselineRule', [old, { ...old, ports: '8000-8999' }])).toMatchObject({
        ok: true,
        value: { rules: [{ ...old, ports: '8000-8999' }] },
      });
      expect(await api.call('removeBaselineRule', [old])).toMatchObject({ ok: false, message: /no longer in the file/ });
      expect(await api.call('removeBaselineRule', [{ ...old, ports: '8000-8999' }])).toMatchObject({ ok: true, value: { rules: [] } });
    } finally {
      await done();
    }
  });

  it('mute, snooze, clear and the loopback setting through the API, pushed to every subscriber', async () => {
    const { api, done } = await engine([]);
    try {
      const pushed: AlertSettings[] = [];
      api.subscribe((m) => m.event === 'alertSettings' && pushed.push(m.payload));
      expect(await api.call('getAlertSettings', [])).toEqual({
        ok: true,
        value: { includeLoopback: false, mutes: [], snoozedUntil: null, clearedThrough: 0, firstContact: false, learningMs: 86_400_000 },
      });
      await api.call('muteAlerts', [{ port: 3000 }]);
      await api.call('setAlertsIncludeLoopback', [true]);
      await api.call('snoozeAlerts', [SNOOZE_MS]);
      await api.call('clearAlerts', []);
      expect(pushed).toHaveLength(4);
      expect(pushed.at(-1)).toMatchObject({ includeLoopback: true, mutes: [{ port: 3000 }], snoozedUntil: expect.any(Number) });
      for (const [m, a] of [
        ['muteAlerts', [{}]],
        ['muteAlerts', [{ port: 3000, process: 'x' }]],
        ['muteAlerts', [{ port: -1 }]],
        ['snoozeAlerts', [-5]],
        ['snoozeAlerts', [0]],
        ['snoozeAlerts', [10 * 24 * 3_600_000]],
        ['setAlertsIncludeLoopback', ['yes']],
      ] as const) {
        expect(await api.call(m, a), `${m} ${JSON.stringify(a)}`).toMatchObject({ ok: false, code: 'bad-request' });
      }
    } finally {
      await done();
    }
  });
});
