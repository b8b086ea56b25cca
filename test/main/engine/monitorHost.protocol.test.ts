import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MonitorHost } from '../../../src/main/engine/monitorHost';
import type { RunResult } from '../../../src/main/engine/runCommand';
import type { SiLauncher } from '../../../src/main/engine/workerProtocol';
import type { Delta, MonitorStatus } from '../../../src/shared/model';
import { encodeDelta } from '../../../src/shared/wire';
import { waitFor } from '../../helpers/children';
import { makeProcess, makeSocket } from '../../helpers/sockets';

/**
 * The worker protocol as the host sees it, with scripted workers: what it does with messages it must not
 * trust, and how a worker's `siRun` reaches the host's launcher and its `siResult` comes back.
 */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-protocol-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let host: MonitorHost | null = null;
afterEach(async () => {
  await host?.stop();
  host = null;
});

let scripts = 0;
/** A worker that posts `messages` (source text of an array), and turns every siResult into a status warning. */
function scriptedWorker(messages: string): string {
  const file = join(dir, `worker-${scripts++}.cjs`);
  writeFileSync(
    file,
    `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  if (m.type === 'stop') process.exit(0);
  if (m.type === 'siResult') parentPort.postMessage({ type: 'status', status: { state: 'ok', source: 'systeminformation', lastPollAt: 0, pollMs: 0, warnings: [JSON.stringify(m)] } });
});
for (const m of ${messages}) parentPort.postMessage(m);
`,
  );
  return file;
}

const SNAPSHOT = "{ type: 'snapshot', snapshot: { seq: 1, takenAt: 1000, source: 'procfs', sockets: [{ id: 'tcp|a' }] } }";

describe('MonitorHost: messages it cannot trust', () => {
  const bad: Array<[string, string]> = [
    ['null', 'object'],
    ['42', 'number'],
    ["'snapshot'", 'string'],
    ['{}', 'object'],
    ["{ type: 'nope' }", 'nope'],
    ["{ type: 'snapshot' }", 'snapshot'],
    ["{ type: 'snapshot', snapshot: { seq: 2, takenAt: 1, source: 'procfs', sockets: [null] } }", 'snapshot'],
    ["{ type: 'snapshot', snapshot: { seq: '2', takenAt: 1, source: 'procfs', sockets: [] } }", 'snapshot'],
    ["{ type: 'delta', delta: { seq: 2 } }", 'delta'],
    ["{ type: 'delta', delta: { seq: 2, takenAt: 1, added: [], changed: [], removed: [7], closed: [] } }", 'delta'],
    ["{ type: 'delta', delta: { seq: 2, takenAt: 1, added: [{}], changed: [], removed: [], closed: [] } }", 'delta'],
    // deltas come as wire rows: one that does not follow the layout, or names a process it does not carry
    ["{ type: 'delta', delta: { v: 1, seq: 2, takenAt: 1, processes: [], users: [], added: [['', 99]], changed: [], removed: [], closed: [] } }", 'delta'],
    [
      "{ type: 'delta', delta: { v: 1, seq: 2, takenAt: 1, processes: [], users: [], added: [['', 0, 4, '127.0.0.1', 80, null, null, 0, 1, 7, 0, 0, null, 3]], changed: [], removed: [], closed: [] } }",
      'delta',
    ],
    ["{ type: 'delta', delta: { v: 1, seq: 2, takenAt: 1, processes: [], users: [], added: [], changed: [], removed: [], closed: [null] } }", 'delta'],
    ["{ type: 'status', status: null }", 'status'],
    ["{ type: 'status', status: { state: 'exploded', source: 'procfs' } }", 'status'],
    ["{ type: 'fatal', message: 7 }", 'fatal'],
    ["{ type: 'siRun', id: 1, job: 'rm -rf /', timeoutMs: 1000 }", 'siRun'],
    ["{ type: 'siRun', id: 1.5, job: 'connections', timeoutMs: 1000 }", 'siRun'],
    ["{ type: 'siRun', id: 1, job: 'connections', timeoutMs: 1e9 }", 'siRun'],
    ["{ type: 'siRun', id: 1, job: 'connections', timeoutMs: -1 }", 'siRun'],
    ["{ type: 'siRun', id: 1, job: 'connections' }", 'siRun'],
  ];

  it.each(bad)('%s: the worker is ended and restarted, the mirror is untouched, nothing throws, no helper runs', async (message, named) => {
    const launcher = vi.fn<SiLauncher>();
    host = new MonitorHost({ workerPath: scriptedWorker(`[${SNAPSHOT}, ${message}]`), restartDelayMs: 60_000, siLauncher: launcher });
    const statuses: MonitorStatus[] = [];
    host.on('status', (s) => statuses.push(s));
    host.start();
    const error = await waitFor(() => statuses.find((s) => s.state === 'error'), 5000, 'the error status');
    expect(error.state === 'error' && error.message).toBe(`monitor worker sent a malformed message (${named}); restarting`);
    expect(host.getSnapshot()).toEqual({ seq: 1, takenAt: 1000, source: 'procfs', sockets: [{ id: 'tcp|a' }] });
    expect(launcher).not.toHaveBeenCalled();
  });
});

describe('MonitorHost: deltas as wire rows', () => {
  it('decodes a delta into the sockets the worker encoded, applies it to the mirror and passes it on', async () => {
    const proc = makeProcess(4242, 'python3');
    const added = makeSocket({
      id: 'tcp|127.0.0.1|40000|127.0.0.1|7100',
      localPort: 40000,
      remoteAddress: '127.0.0.1',
      remotePort: 7100,
      state: 'ESTABLISHED',
      listening: false,
      pid: 4242,
      pids: [4242],
      bytesIn: 200,
      bytesOut: 200,
      rateIn: 0,
      rateOut: 200,
      direction: 'out',
      directionGuessed: false,
      process: proc,
    });
    const delta: Delta = { seq: 2, takenAt: 2000, added: [added], changed: [], removed: ['tcp|a'], closed: [] };
    host = new MonitorHost({ workerPath: scriptedWorker(`[${SNAPSHOT}, { type: 'delta', delta: ${JSON.stringify(encodeDelta(delta))} }]`) });
    const got: Delta[] = [];
    host.on('delta', (d) => got.push(d));
    host.start();
    expect(await waitFor(() => got[0], 5000, 'the delta')).toEqual(delta);
    expect(host.getSnapshot()).toEqual({ seq: 2, takenAt: 2000, source: 'procfs', sockets: [added] });
  });
});

describe("MonitorHost: a worker's siRun runs on the host's launcher", () => {
  /** The siResults the scripted worker got back, by id, as it reports them. */
  function answers(h: MonitorHost): Map<number, RunResult> {
    const got = new Map<number, RunResult>();
    h.on('status', (s) => {
      if (s.state !== 'ok') return;
      const m = JSON.parse(s.warnings[0] ?? '{}') as { id: number; result: RunResult };
      got.set(m.id, m.result);
    });
    return got;
  }
  const ok: RunResult = { code: 0, spawnError: null, stdout: '[]', stderr: '', timedOut: false };

  it('the job and its timeout reach the launcher, and its result comes back to the worker under the same id', async () => {
    const launcher = vi.fn<SiLauncher>(() => Promise.resolve(ok));
    host = new MonitorHost({ workerPath: scriptedWorker("[{ type: 'siRun', id: 7, job: 'processes', timeoutMs: 10000 }]"), siLauncher: launcher });
    const got = answers(host);
    host.start();
    expect(await waitFor(() => got.get(7), 5000, 'the answer')).toEqual(ok);
    expect(launcher).toHaveBeenCalledWith('processes', 10_000);
  });

  it('a launcher that rejects or throws, and a host with no launcher, answer as a helper that could not start', async () => {
    const runs = "[{ type: 'siRun', id: 1, job: 'connections', timeoutMs: 1000 }, { type: 'siRun', id: 2, job: 'connections', timeoutMs: 1000 }]";
    let calls = 0;
    host = new MonitorHost({
      workerPath: scriptedWorker(runs),
      siLauncher: () => {
        if (++calls === 1) return Promise.reject(new Error('fork failed'));
        throw new Error('no fork at all');
      },
    });
    const got = answers(host);
    host.start();
    await waitFor(() => (got.size === 2 ? true : undefined), 5000, 'both answers');
    expect(got.get(1)).toEqual({ code: null, spawnError: 'fork failed', stdout: '', stderr: '', timedOut: false });
    expect(got.get(2)).toMatchObject({ spawnError: 'no fork at all' });
    await host.stop();

    host = new MonitorHost({ workerPath: scriptedWorker("[{ type: 'siRun', id: 3, job: 'connections', timeoutMs: 1000 }]") });
    const none = answers(host);
    host.start();
    expect(await waitFor(() => none.get(3), 5000, 'the answer')).toMatchObject({ spawnError: 'the monitor host runs no helper (it was given no launcher)' });
  });

  it('runs at most two helpers for a worker at once: a third ask is answered at once, the others when they end', async () => {
    const release: Array<() => void> = [];
    const launcher = vi.fn<SiLauncher>(() => new Promise((resolve) => release.push(() => resolve(ok))));
    const runs = [1, 2, 3].map((id) => `{ type: 'siRun', id: ${id}, job: 'connections', timeoutMs: 1000 }`).join(', ');
    host = new MonitorHost({ workerPath: scriptedWorker(`[${runs}]`), siLauncher: launcher });
    const got = answers(host);
    host.start();
    expect(await waitFor(() => got.get(3), 5000, 'the third answer')).toMatchObject({ spawnError: '2 helpers are running already' });
    expect(launcher).toHaveBeenCalledTimes(2);
    expect(got.has(1) || got.has(2)).toBe(false);
    for (const r of release) r();
    await waitFor(() => (got.has(1) && got.has(2) ? true : undefined), 5000, 'the first two answers');
    expect(got.get(1)).toEqual(ok);
  });
});
