import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineApi } from '../../../src/main/api/engineApi';
import type { Monitor } from '../../../src/main/engine/monitor';
import { startServer } from '../../../src/main/server';
import type { ApiEventMessage } from '../../../src/shared/contract';
import { ROOT } from '../../helpers/paths';
import { oneListenerMonitor } from '../../helpers/sockets';

/** Counts the monitor subscriptions still held, by wrapping the monitor's own `on`. */
function counted(monitor: Monitor): { held: () => number } {
  let held = 0;
  const on = monitor.on.bind(monitor);
  monitor.on = ((event, handler) => {
    held++;
    const off = on(event, handler);
    let done = false;
    return () => {
      if (!done) held--;
      done = true;
      off();
    };
  }) as Monitor['on'];
  return { held: () => held };
}

describe('EngineApi: the services behind PortwatchApi, with a lifecycle', () => {
  it('dispose lets go of the monitor and of every subscriber; later calls answer disconnected', async () => {
    const monitor = await oneListenerMonitor();
    const subs = counted(monitor);
    const api = new EngineApi(monitor);
    const got: ApiEventMessage[] = [];
    api.subscribe((m) => got.push(m));
    expect(subs.held()).toBeGreaterThan(0);
    expect(await api.call('getState', [])).toMatchObject({ ok: true, value: { control: true, intervalMs: 250 } });
    api.dispose();
    expect(subs.held()).toBe(0);
    const before = got.length;
    await monitor.pollOnce();
    expect(got.length).toBe(before);
    expect(await api.call('getState', [])).toMatchObject({ ok: false, code: 'disconnected' });
    await monitor.stop();
  });

  it('a web server started and closed again leaves no subscription on the monitor it was given', async () => {
    const monitor = await oneListenerMonitor();
    const subs = counted(monitor);
    for (let i = 0; i < 3; i++) {
      const server = await startServer({ monitor, staticDir: join(ROOT, 'out', 'renderer'), port: 0 });
      expect(subs.held()).toBeGreaterThan(0);
      await server.close();
      expect(subs.held()).toBe(0);
    }
    await monitor.stop();
  });

  it('finds sockets by id in the monitor itself: markExpected and closeConnection of an unknown id are bad requests', async () => {
    const monitor = await oneListenerMonitor();
    const api = new EngineApi(monitor);
    expect(await api.call('markExpected', ['no-such-socket'])).toMatchObject({ ok: false, code: 'bad-request', message: 'no such socket now' });
    expect(await api.call('closeConnection', ['no-such-socket'])).toMatchObject({ ok: false, code: 'bad-request', message: 'no such socket now' });
    // without a baseline file there is nothing to write to
    expect(await api.call('markExpected', ['tcp|127.0.0.1|80|*|*|1'])).toMatchObject({
      ok: false,
      code: 'bad-request',
      message: 'no baseline file in this mode',
    });
    expect(monitor.counts()).toEqual({ sockets: 1, listening: 1 });
    expect(monitor.socket('tcp|127.0.0.1|80|*|*|1')?.localPort).toBe(80);
    api.dispose();
    await monitor.stop();
  });
});
