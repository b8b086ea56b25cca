import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNTRACK_ACCT_PATH, enableConntrackAccounting } from '../../../src/main/api/conntrackAccounting';
import { EngineApi } from '../../../src/main/api/engineApi';
import { inNetns } from '../../../src/main/engine/netns';
import { NetlinkSource } from '../../../src/main/engine/sources/netlink';
import { Monitor } from '../../../src/main/engine/monitor';
import { rightOf } from '../../../src/shared/contract';
import type { MonitorStatus } from '../../../src/shared/model';
import { waitFor } from '../../helpers/children';
import { canNetns, Netns } from '../../helpers/netns';
import { oneListenerMonitor } from '../../helpers/sockets';

/** The switch of a namespace, read inside it. */
const acctIn = (ns: Netns): string => execFileSync('ip', ns.exec('cat', CONNTRACK_ACCT_PATH), { encoding: 'utf8' }).trim();

/**
 * conntrack accounting is turned on only by its API method, which the UI calls after a confirmation; never by
 * polling. The switch is per network namespace, so the live part runs in one the test creates (the machine's
 * own is left as it was, which the test checks).
 */
describe('enableConntrackAccounting', () => {
  it('is a change right (a read-only web client may not call it)', () => {
    expect(rightOf('enableConntrackAccounting')).toBe('change');
  });

  it('refuses without root, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-acct-'));
    try {
      const file = join(dir, 'nf_conntrack_acct');
      writeFileSync(file, '0\n');
      expect(enableConntrackAccounting(file, false)).toMatchObject({ ok: false, code: 'forbidden', message: expect.stringMatching(/only root/) });
      expect(readFileSync(file, 'utf8')).toBe('0\n');
      expect(enableConntrackAccounting(join(dir, 'missing'), true)).toMatchObject({
        ok: false,
        code: 'bad-request',
        message: expect.stringMatching(/not loaded/),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.runIf(canNetns)('in a network namespace of its own', () => {
    const ns = Netns.unique('pw-acct-');
    let hostBefore = '';
    beforeAll(() => {
      hostBefore = readFileSync(CONNTRACK_ACCT_PATH, 'utf8').trim();
      ns.create();
    });
    afterAll(() => {
      ns.remove();
      // the machine's own namespace is as it was
      expect(readFileSync(CONNTRACK_ACCT_PATH, 'utf8').trim()).toBe(hostBefore);
    });

    it('polling never turns it on: the status says acct-off, and neither switch moves', async () => {
      expect(acctIn(ns)).toBe('0');
      // polls read the switch (status: acct-off), never write it: the machine's (checked after all) nor the namespace's
      const monitor = inNetns(ns.path, () => new Monitor({ source: new NetlinkSource(), intervalMs: 250 }));
      const statuses: MonitorStatus[] = [];
      monitor.on('status', (s) => statuses.push(s));
      try {
        inNetns(ns.path, () => monitor.start());
        await waitFor(() => statuses.find((s) => s.state === 'ok'), 15_000, 'a good poll');
        const status = monitor.getStatus();
        expect(status?.state === 'ok' && status.udpCounters).toBe(hostBefore === '1' ? 'conntrack' : 'acct-off');
      } finally {
        await monitor.stop();
      }
      expect(acctIn(ns)).toBe('0');
    });

    it("turns it on in the engine's namespace when called, and answers the switch read back", async () => {
      const monitor = await oneListenerMonitor();
      const api = new EngineApi(monitor);
      try {
        // other calls leave it alone
        await api.call('getState', []);
        expect(acctIn(ns)).toBe('0');
        // dispatch runs the handler before its first await: inside the namespace, as an engine living there would
        const answer = await inNetns(ns.path, () => api.call('enableConntrackAccounting', []));
        expect(answer).toEqual({ ok: true, value: true });
        expect(acctIn(ns)).toBe('1');
        expect(readFileSync(CONNTRACK_ACCT_PATH, 'utf8').trim()).toBe(hostBefore);
        // arguments are refused like any other method's
        expect(await api.call('enableConntrackAccounting', [true])).toMatchObject({ ok: false, code: 'bad-request' });
      } finally {
        api.dispose();
        await monitor.stop();
      }
    });
  });
});
