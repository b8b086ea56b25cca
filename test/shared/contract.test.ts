import { describe, expect, it } from 'vitest';
import type { ApiResult } from '../../src/shared/api';
import { API_EVENTS, API_METHODS, buildApi, dispatch, METHODS, rightOf, subscriberName, type ApiHandlers } from '../../src/shared/contract';

/** Handlers that answer their own name and arguments, so a test sees what dispatch passed on. */
function echoHandlers(): ApiHandlers {
  const h: Record<string, (...a: unknown[]) => ApiResult<unknown>> = {};
  for (const m of API_METHODS) h[m] = (...args) => ({ ok: true, value: { m, args } });
  return h as unknown as ApiHandlers;
}

describe('the contract table', () => {
  it('names every method once, each with a schema and a right; events likewise', () => {
    expect(new Set(API_METHODS).size).toBe(API_METHODS.length);
    for (const m of API_METHODS) expect(['view', 'change']).toContain(rightOf(m));
    // what only reads is view; what acts on the machine or on every client is change
    expect(API_METHODS.filter((m) => rightOf(m) === 'view').sort()).toEqual([
      'getActionLog',
      'getAlertSettings',
      'getAlerts',
      'getBaseline',
      'getHistoryStatus',
      'getNetworkRates',
      'getState',
      'historyEvents',
      'historyFlows',
      'historyListeners',
      'historyTimeline',
    ]);
    expect(rightOf('__proto__')).toBeNull();
    expect(rightOf('constructor')).toBeNull();
    expect(API_EVENTS.map(subscriberName)).toEqual([
      'onSnapshot',
      'onDelta',
      'onStatus',
      'onHostNames',
      'onBaseline',
      'onAlert',
      'onAlertSettings',
      'onAction',
      'onHistoryStatus',
    ]);
  });

  it('dispatch validates against the table and hands handlers the parsed arguments', async () => {
    const h = echoHandlers();
    expect(await dispatch(h, 'killProcess', [12, null, true])).toEqual({ ok: true, value: { m: 'killProcess', args: [12, null, true] } });
    expect(await dispatch(h, 'killProcess', [12, null])).toMatchObject({ ok: false, code: 'bad-request', message: expect.stringMatching(/^killProcess: /) });
    expect(await dispatch(h, 'setPollInterval', [100])).toMatchObject({ ok: false, code: 'bad-request' });
    expect(await dispatch(h, 'setPollInterval', 'not a list')).toMatchObject({ ok: false, code: 'bad-request' });
    for (const bad of ['toString', '__proto__', 'hasOwnProperty', 42, null, { toString: 1 }]) {
      expect(await dispatch(h, bad, [])).toMatchObject({ ok: false, code: 'unknown-method' });
    }
  });

  it('a handler that throws or rejects is an internal error, as a value', async () => {
    const h = {
      ...echoHandlers(),
      getAlerts: () => {
        throw new Error('boom');
      },
      getActionLog: () => Promise.reject(new Error('later boom')),
    } as ApiHandlers;
    expect(await dispatch(h, 'getAlerts', [])).toEqual({ ok: false, code: 'internal', message: 'boom' });
    expect(await dispatch(h, 'getActionLog', [])).toEqual({ ok: false, code: 'internal', message: 'later boom' });
  });

  it('buildApi gives a method per entry and a subscription per event, over the two primitives', async () => {
    const calls: unknown[][] = [];
    const subs: string[] = [];
    const api = buildApi(
      async (m, ...args) => (calls.push([m, ...args]), { ok: true, value: null }),
      (e) => (subs.push(e), () => undefined),
      () => () => undefined,
    );
    expect(Object.keys(api).sort()).toEqual([...Object.keys(METHODS), ...API_EVENTS.map(subscriberName), 'onConnection'].sort());
    await api.killProcess(5, null, false);
    api.onHostNames(() => undefined);
    expect(calls).toEqual([['killProcess', 5, null, false]]);
    expect(subs).toEqual(['hostNames']);
  });

  it('an optional argument left out is not sent, so a JSON transport does not turn it into a refused null', async () => {
    const sent: string[] = [];
    const h = { setFirstContact: (on: boolean, ms?: number) => ({ ok: true, value: { on, ms: ms ?? 'default' } }) } as unknown as ApiHandlers;
    // the WebSocket's path: the arguments go through JSON, then the dispatcher checks them against the contract
    const api = buildApi(
      (m, ...args) => {
        const wire = JSON.stringify(args);
        sent.push(wire);
        return dispatch(h, m, JSON.parse(wire));
      },
      () => () => undefined,
      () => () => undefined,
    );
    expect(await api.setFirstContact(true, undefined)).toMatchObject({ ok: true, value: { on: true, ms: 'default' } });
    expect(await api.setFirstContact(true, 3_600_000)).toMatchObject({ ok: true, value: { on: true, ms: 3_600_000 } });
    expect(sent).toEqual(['[true]', '[true,3600000]']);
  });
});
