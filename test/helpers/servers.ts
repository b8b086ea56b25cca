import { afterEach, beforeEach } from 'vitest';
import type { Monitor } from '../../src/main/engine/monitor';
import { startServer, type RunningServer, type ServeOptions } from '../../src/main/server';
import { oneListenerMonitor } from './sockets';

/**
 * For a describe block of server tests: a fresh one-listener monitor before each test, and `start()` for as many
 * servers over it as the test wants (with `base` options under its own), all closed after the test.
 */
export function serversPerTest(base: Omit<Partial<ServeOptions>, 'monitor'>): {
  monitor: () => Monitor;
  start: (opts?: Partial<ServeOptions>) => Promise<RunningServer>;
} {
  let monitor: Monitor | null = null;
  const servers: RunningServer[] = [];
  beforeEach(async () => {
    monitor = await oneListenerMonitor();
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await monitor?.stop();
  });
  const current = (): Monitor => {
    if (!monitor) throw new Error('serversPerTest: no monitor outside a test');
    return monitor;
  };
  return {
    monitor: current,
    start: async (opts = {}) => {
      const s = await startServer({ port: 0, ...base, monitor: current(), ...opts } as ServeOptions);
      servers.push(s);
      return s;
    },
  };
}
