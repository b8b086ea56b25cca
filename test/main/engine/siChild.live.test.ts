import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../../src/main/engine/monitor';
import { MonitorHost } from '../../../src/main/engine/monitorHost';
import { SystemInformationSource } from '../../../src/main/engine/sources/systeminformation';
import { runSiJob } from '../../../src/main/engine/sources/siChild';
import { isRunning, waitFor } from '../../helpers/children';
import { FIXTURES, SI_CHILD, WORKER } from '../../helpers/paths';

/**
 * systeminformation shells out to netstat (then ss) with no timeout. Here a fake `netstat` first earlier on PATH
 * answers with recorded output, then hangs (after starting a child of its own), then prints garbage: the source
 * fails with a clear message at its timeout, kills the helper with every process it started, the monitor keeps
 * its last good data marked stale, and recovers.
 */
describe('systeminformation in a killable child', () => {
  let bin: string;
  let env: NodeJS.ProcessEnv;
  const tool = (script: string): void => {
    writeFileSync(join(bin, 'netstat'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, 'netstat'), 0o755);
  };
  // it also records the command line of its process group's leader: who started it, in a group of its own
  const good = (): void =>
    tool(`tr '\\0' ' ' < /proc/$(cut -d' ' -f5 /proc/$$/stat)/cmdline > '${bin}/leader'\ncat '${join(FIXTURES, 'si', 'linux-netstat.txt')}'`);
  const leader = (): string => readFileSync(join(bin, 'leader'), 'latin1');
  const hanging = (): void => tool(`sleep 1000 & echo $! > '${bin}/grandchild'\necho $$ > '${bin}/pid'\nwait`);

  beforeEach(() => {
    bin = mkdtempSync(join(tmpdir(), 'pw-fakebin-'));
    env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  it('a hung tool: an error at the timeout, the tool and its child killed, last good data kept as stale, then recovery', async () => {
    const source = new SystemInformationSource({ child: { helperPath: SI_CHILD, timeoutMs: 2000, env } });
    const monitor = new Monitor({ source, intervalMs: 1000 });
    good();
    await monitor.pollOnce();
    expect(monitor.getStatus()?.state).toBe('ok');
    const before = monitor.getSnapshot();
    expect(before?.sockets.some((s) => s.localPort === 9090 && s.state === 'LISTEN')).toBe(true);
    expect(leader()).toMatch(/si-child\.cjs --portwatch-si-child connections $/);

    hanging();
    // the hung tool would never end by itself: a poll that waited for it would time this test out
    await monitor.pollOnce();
    const st = monitor.getStatus();
    expect(st?.state).toBe('error');
    expect(st?.state === 'error' && st.message).toMatch(/networkConnections\(\) did not answer within 2\.0 s: stopped it and every tool it had started/);
    expect(st?.state === 'error' && st.staleSince).toBe(before?.takenAt);
    expect(monitor.getSnapshot()?.sockets).toEqual(before?.sockets);
    const pids = ['pid', 'grandchild'].map((f) => Number(readFileSync(join(bin, f), 'latin1')));
    await waitFor(() => (pids.some(isRunning) ? undefined : true), 5000, 'the hung tool and its child to be gone');

    good();
    await monitor.pollOnce();
    expect(monitor.getStatus()?.state).toBe('ok');
    await monitor.stop();
  }, 20_000);

  it('a helper that fails or prints something that is not JSON is a clear error', async () => {
    await expect(runSiJob('connections', { helperPath: join(bin, 'nonexistent.cjs'), timeoutMs: 5000, env })).rejects.toThrow(
      /systeminformation networkConnections\(\) failed: .*Cannot find module/,
    );
    const liar = join(bin, 'liar.cjs');
    writeFileSync(liar, 'process.stdout.write(\'{"half": \');');
    await expect(runSiJob('connections', { helperPath: liar, timeoutMs: 5000, env })).rejects.toThrow(/gave output that is not JSON \(9 bytes\)/);
  });

  it('the monitor worker starts it: the built worker runs the built helper, si-child.cjs', async () => {
    good();
    const path = process.env.PATH;
    process.env.PATH = env.PATH; // the worker thread copies this environment, and the helper inherits it
    const host = new MonitorHost({ workerPath: WORKER, source: 'systeminformation', intervalMs: 1000 });
    try {
      const first = new Promise<{ sockets: Array<{ localPort: number; state: string }> }>((resolve) => host.on('snapshot', resolve));
      host.start();
      process.env.PATH = path;
      const snapshot = await first;
      expect(snapshot.sockets.some((s) => s.localPort === 9090 && s.state === 'LISTEN')).toBe(true);
      expect(leader()).toBe(`${process.execPath} ${SI_CHILD} --portwatch-si-child connections `);
    } finally {
      process.env.PATH = path;
      await host.stop();
    }
  });
});
