import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MonitorHost } from '../../../src/main/engine/monitorHost';
import type { Delta, MonitorStatus, Snapshot } from '../../../src/shared/model';
import { waitFor } from '../../helpers/children';
import { WORKER } from '../../helpers/paths';

describe('MonitorHost: the monitor in a real worker thread', () => {
  let host: MonitorHost | null = null;
  afterEach(async () => {
    await host?.stop();
    host = null;
  });

  it('streams a snapshot then deltas, mirrors state, pauses, resumes and stops its worker', async () => {
    host = new MonitorHost({ workerPath: WORKER, intervalMs: 250 });
    const snapshots: Snapshot[] = [];
    const deltas: Delta[] = [];
    const statuses: MonitorStatus[] = [];
    host.on('snapshot', (s) => snapshots.push(s));
    host.on('delta', (d) => deltas.push(d));
    host.on('status', (s) => statuses.push(s));
    host.start();
    await waitFor(() => snapshots[0], 10_000, 'snapshot');
    // the Linux default: sock_diag over netlink, in the worker thread (koffi loads there too)
    expect(snapshots[0]?.source).toBe('netlink');

    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const added = await waitFor(() => deltas.find((d) => d.added.some((s) => s.localPort === port)), 5000, 'added');
    expect(added.added.find((s) => s.localPort === port)?.pid).toBe(process.pid);
    expect(host.getSnapshot()?.sockets.some((s) => s.localPort === port)).toBe(true);
    expect(host.getSnapshot()?.seq).toBe(deltas.at(-1)?.seq);

    // the 'paused' status comes from the worker's own monitor: the message got there (that pausing stops
    // polling is proven with fake timers in monitor.test.ts)
    host.pause();
    await waitFor(() => (host?.getStatus()?.state === 'paused' ? true : undefined), 5000, 'paused');
    expect(host.isPaused()).toBe(true);
    await new Promise<void>((r) => server.close(() => r()));
    host.resume();
    await waitFor(() => deltas.find((d) => d.removed.includes(added.added.find((s) => s.localPort === port)?.id as string)), 5000, 'removed');
    expect(statuses.at(-1)?.state).toBe('ok');

    expect(() => host?.setIntervalMs(10)).toThrow(RangeError);
    host.setIntervalMs(300);
    expect(host.getIntervalMs()).toBe(300);
  });

  it('restarts a crashed worker, says so, and gives up after five crashes in a minute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-crash-'));
    const crashing = join(dir, 'worker.cjs');
    writeFileSync(crashing, "throw new Error('boom in worker');\n");
    try {
      host = new MonitorHost({ workerPath: crashing, restartDelayMs: 10 });
      const statuses: MonitorStatus[] = [];
      host.on('status', (s) => statuses.push(s));
      host.start();
      await waitFor(() => (statuses.some((s) => s.state === 'error' && /gave up/.test(s.message)) ? true : undefined), 10_000, 'give up');
      const errors = statuses.filter((s) => s.state === 'error');
      expect(errors).toHaveLength(6);
      expect(errors[0]?.state === 'error' && errors[0].message).toMatch(/boom in worker; restarting/);
      expect(errors.at(-1)).toMatchObject({ failures: 6, staleSince: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends a worker that hangs mid-poll and starts a fresh one, which resynchronises', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pw-hang-'));
    const hanging = join(dir, 'worker.cjs');
    // answers once, then blocks forever as a stuck /proc read would
    writeFileSync(
      hanging,
      "const { parentPort } = require('node:worker_threads');\n" +
        "parentPort.postMessage({ type: 'snapshot', snapshot: { seq: 1, takenAt: Date.now(), source: 'procfs', sockets: [] } });\n" +
        'setTimeout(() => { for (;;) {} }, 10);\n',
    );
    try {
      host = new MonitorHost({ workerPath: hanging, restartDelayMs: 10, stallMs: 400 });
      const statuses: MonitorStatus[] = [];
      const snapshots: Snapshot[] = [];
      host.on('status', (s) => statuses.push(s));
      host.on('snapshot', (s) => snapshots.push(s));
      host.start();
      await waitFor(() => (snapshots.length >= 2 ? true : undefined), 10_000, 'a restarted worker');
      const err = statuses.find((s) => s.state === 'error');
      expect(err?.state === 'error' && err.message).toMatch(/stopped answering for \d+ s; restarting/);
      expect(err?.state === 'error' && err.staleSince).toBe(snapshots[0]?.takenAt);
    } finally {
      await host?.stop();
      host = null;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
