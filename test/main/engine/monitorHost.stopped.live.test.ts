import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/children';
import { ROOT } from '../../helpers/paths';

const ENGINE = join(ROOT, 'out', 'node', 'engine.cjs');
const STALL_MS = 2500;

/** A host process: MonitorHost from the built engine, printing each event as a JSON line. */
const HOST = `
const { MonitorHost } = require(${JSON.stringify(ENGINE)});
const host = new MonitorHost({ intervalMs: 250, stallMs: ${STALL_MS}, restartDelayMs: 10 });
const say = (e) => process.stdout.write(JSON.stringify(e) + '\\n');
host.on('snapshot', (s) => say({ e: 'snapshot', seq: s.seq }));
host.on('delta', (d) => say({ e: 'delta', seq: d.seq }));
host.on('status', (s) => say({ e: 'status', state: s.state, message: s.message ?? '' }));
host.start();
`;

interface HostEvent {
  e: 'snapshot' | 'delta' | 'status';
  seq?: number;
  state?: string;
  message?: string;
}

function stateOf(pid: number): string {
  return /^\d+ \(.*\) (\S) /s.exec(readFileSync(`/proc/${pid}/stat`, 'latin1'))?.[1] ?? '?';
}

describe('MonitorHost when the whole host process is stopped (SIGSTOP, a suspend)', () => {
  let proc: ChildProcess | null = null;
  afterEach(() => {
    proc?.kill('SIGKILL');
    proc = null;
  });

  it('does not take the stop for a hung worker: no restart, and polls keep coming after SIGCONT', async () => {
    const p = spawn(process.execPath, ['-e', HOST], { stdio: ['ignore', 'pipe', 'inherit'] });
    proc = p;
    const events: HostEvent[] = [];
    let buf = '';
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        events.push(JSON.parse(buf.slice(0, nl)) as HostEvent);
        buf = buf.slice(nl + 1);
      }
    });
    const lastSeq = (): number => Math.max(0, ...events.filter((e) => e.e !== 'status').map((e) => e.seq ?? 0));
    await waitFor(() => (events.some((e) => e.e === 'delta') ? true : undefined), 10_000, 'a first delta');

    // what happened before the stop (a slow first poll on a busy machine) is not this test's business
    const sinceStop = events.length;
    const pid = p.pid as number;
    process.kill(pid, 'SIGSTOP');
    await waitFor(() => (stateOf(pid) === 'T' ? true : undefined), 5000, 'the host to be stopped');
    // The stop is the input here, not a wait for an outcome: it must outlast the watchdog's stall limit.
    await new Promise((r) => setTimeout(r, 2 * STALL_MS));
    const before = lastSeq();
    process.kill(pid, 'SIGCONT');
    // several polls after the stop: the watchdog, overdue when the host woke, has looked more than once by then
    await waitFor(() => (lastSeq() >= before + 4 ? true : undefined), 10_000, 'polls after SIGCONT');

    const after = events.slice(sinceStop);
    expect(after.filter((e) => e.e === 'status' && e.state === 'error')).toEqual([]);
    // a restarted worker would have sent a fresh snapshot
    expect(after.filter((e) => e.e === 'snapshot')).toEqual([]);
  }, 40_000);
});
