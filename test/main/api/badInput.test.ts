import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiDispatcher } from '../../../src/main/api/dispatch';
import { Monitor } from '../../../src/main/engine/monitor';
import { API_METHODS } from '../../../src/shared/api';

/** What every method must refuse: wrong types, missing and extra arguments, huge strings, odd numbers. */
const HOSTILE: unknown[] = ['', 'x'.repeat(100_000), NaN, Infinity, -Infinity, -1, 0, 2 ** 53, 1.5, null, undefined, true, {}, [], { __proto__: { polluted: 1 } }, () => 1, Symbol('s')];

describe('every API method against hostile arguments (the one dispatcher behind IPC and WebSocket)', () => {
  it('answers a typed error, never throws, and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-bad-'));
    const baselinePath = join(dir, 'baseline.json');
    try {
      const monitor = new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [], warnings: [] }) }, intervalMs: 1000 });
      await monitor.pollOnce();
      const d = new ApiDispatcher(monitor, { baselinePath });
      const valid: Record<string, unknown[]> = {
        getState: [],
        setInterval: [1000],
        pause: [],
        resume: [],
        setReverseDns: [false],
        getNetworkRates: [],
        getBaseline: [],
        markExpected: ['id'],
        acceptAllListeners: [],
        getAlerts: [],
        killProcess: [12345, null, false],
        closeConnection: ['id'],
        getActionLog: [],
      };
      expect(Object.keys(valid).sort()).toEqual([...API_METHODS].sort());
      let calls = 0;
      for (const method of API_METHODS) {
        const good = valid[method] as unknown[];
        const attempts: unknown[] = [
          'not an array',
          null,
          {},
          [...good, 'extra'],
          ...good.map((_, i) => good.slice(0, i)), // missing arguments
          // each argument replaced by a value of another kind (a nullable number, startTime, keeps its numbers)
          ...good.flatMap((_, i) =>
            HOSTILE.filter((h) => (good[i] === null ? h !== null && typeof h !== 'number' : typeof h !== typeof good[i] || h === null)).map((h) => good.map((g, j) => (j === i ? h : g))),
          ),
          // and the numbers that are out of range where a number is wanted
          ...good.flatMap((g, i) => (typeof g === 'number' ? [NaN, Infinity, -1, 0, 1.5, 2 ** 53].map((h) => good.map((x, j) => (j === i ? h : x))) : [])),
        ];
        for (const args of attempts) {
          calls++;
          const r = await d.call(method, args);
          const shown = Array.isArray(args) ? args.map((a) => (typeof a === 'symbol' ? 'Symbol' : typeof a === 'string' ? a.slice(0, 20) : typeof a)).join(', ') : typeof args;
          expect(r.ok, `${method}(${shown})`).toBe(false);
          if (!r.ok) expect(r.code).toBe('bad-request');
        }
      }
      for (const name of ['__proto__', 'constructor', 'toString', 'x'.repeat(10_000), 42, null]) {
        expect(await d.call(name, [])).toMatchObject({ ok: false, code: 'unknown-method' });
      }
      expect(calls).toBeGreaterThan(100);
      // nothing moved
      expect(monitor.getIntervalMs()).toBe(1000);
      expect(monitor.isPaused()).toBe(false);
      expect(existsSync(baselinePath)).toBe(false);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      await monitor.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
