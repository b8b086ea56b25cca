import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { utilityProcess } from 'electron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SI_SERVICE_NAME, utilitySiLauncher, type UtilityChild } from '../../../src/main/electron/siLauncher';
import { MonitorHost } from '../../../src/main/engine/monitorHost';
import { runSiJob, siJobResult } from '../../../src/main/engine/sources/siChild';
import { SI_TIMEOUT_MS, SystemInformationSource } from '../../../src/main/engine/sources/systeminformation';
import type { SiJob } from '../../../src/main/engine/workerProtocol';
import type { Snapshot } from '../../../src/shared/model';
import { isRunning, waitFor } from '../../helpers/children';
import { FIXTURES, SI_CHILD, WORKER } from '../../helpers/paths';

/** The systeminformation helper's bundle (out/node/si-child.cjs), which the app forks as a utility process. */
const HELPER = SI_CHILD;

/**
 * No Electron binary runs here, so `utilityProcess.fork` is played by node's child_process.fork of the same
 * module, shaped as Electron's UtilityProcess is: a pid only once spawned and until exited, stdout and stderr
 * as streams, `exit` with a code, after which the streams are dropped (Electron removes their listeners). Like
 * a utility process, the child shares our process group: killing a group would kill the test itself.
 * It emits `exit` after node's 'close' (all output in); the order Electron may also give, exit first, is
 * played by a scripted child at the end.
 */
const fx = vi.hoisted(() => ({ forks: [] as Array<{ modulePath: string; args: string[]; options: Record<string, unknown>; pid: () => number | undefined }> }));

vi.mock('electron', async () => {
  const { fork } = await import('node:child_process');
  const { EventEmitter: Emitter } = await import('node:events');
  const { constants } = await import('node:os');
  return {
    utilityProcess: {
      fork(modulePath: string, args: string[], options: { env?: NodeJS.ProcessEnv }) {
        const proc = fork(modulePath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env: options.env ?? process.env });
        let alive = false;
        class StandIn extends Emitter {
          stdout = proc.stdout;
          stderr = proc.stderr;
          get pid(): number | undefined {
            return alive ? proc.pid : undefined;
          }
          kill(): boolean {
            return proc.kill('SIGTERM');
          }
        }
        const handle = new StandIn();
        fx.forks.push({ modulePath, args, options, pid: () => proc.pid });
        proc.once('spawn', () => {
          alive = true;
          handle.emit('spawn');
        });
        proc.once('close', (code, signal) => {
          alive = false;
          handle.emit('exit', code ?? 128 + (signal ? constants.signals[signal] : 0));
          handle.stdout?.removeAllListeners();
          handle.stderr?.removeAllListeners();
        });
        return handle;
      },
    },
  };
});

describe('systeminformation in a utility process (Electron, RunAsNode off)', () => {
  let bin: string;
  let env: NodeJS.ProcessEnv;
  const tool = (script: string): void => {
    writeFileSync(join(bin, 'netstat'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, 'netstat'), 0o755);
  };
  const good = (): void => tool(`cat '${join(FIXTURES, 'si', 'linux-netstat.txt')}'`);
  const launch = (): ReturnType<typeof utilitySiLauncher> => utilitySiLauncher(utilityProcess, HELPER, { env });

  beforeEach(() => {
    fx.forks.length = 0;
    bin = mkdtempSync(join(tmpdir(), 'pw-fakebin-'));
    env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  });
  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  it('a job that answers: the sockets come back, and the helper, which waits once it has answered, is stopped', async () => {
    good();
    const source = new SystemInformationSource({ child: { launch: launch(), timeoutMs: 10_000 }, processes: () => Promise.resolve({ list: [] }) });
    const { sockets } = await source.list();
    expect(sockets.some((s) => s.localPort === 9090 && s.state === 'LISTEN' && s.pid === 3087)).toBe(true);
    expect(fx.forks.map(({ modulePath, args, options }) => ({ modulePath, args, options }))).toEqual([
      { modulePath: HELPER, args: ['--portwatch-si-child', 'connections', '--until-stopped'], options: { stdio: 'pipe', serviceName: SI_SERVICE_NAME, env } },
    ]);
    const helper = fx.forks[0]?.pid() as number;
    await waitFor(() => (isRunning(helper) ? undefined : true), 5000, 'the helper to be stopped');
  });

  it('a hung tool: the same error as in plain Node at the timeout, the helper and every descendant killed, nothing else', async () => {
    tool(`sleep 1000 & echo $! > '${bin}/grandchild'\necho $$ > '${bin}/pid'\nwait`);
    // a process of ours that is no descendant of the helper, in the same process group: it must live
    const bystander = spawn('sleep', ['600'], { stdio: 'ignore' });
    let pids: number[] = [];
    try {
      await expect(runSiJob('connections', { launch: launch(), timeoutMs: 2000 })).rejects.toThrow(
        /^systeminformation networkConnections\(\) did not answer within 2\.0 s: stopped it and every tool it had started$/,
      );
      pids = [fx.forks[0]?.pid() as number, ...['pid', 'grandchild'].map((f) => Number(readFileSync(join(bin, f), 'latin1')))];
      expect(pids.every((p) => p > 1)).toBe(true);
      await waitFor(() => (pids.some(isRunning) ? undefined : true), 5000, 'the helper, the hung tool and its child to be gone');
      expect(isRunning(bystander.pid as number)).toBe(true);
    } finally {
      bystander.kill('SIGKILL');
      // should this fail, leave nothing behind
      for (const p of pids.filter((p) => p > 1 && isRunning(p))) process.kill(p, 'SIGKILL');
    }
  });

  it('a helper that crashes, is missing, or whose job fails gives a clear error', async () => {
    const crashing = join(bin, 'crashing.cjs');
    writeFileSync(crashing, "throw new TypeError('boom in the helper');\n");
    await expect(runSiJob('connections', { launch: utilitySiLauncher(utilityProcess, crashing, { env }), timeoutMs: 10_000 })).rejects.toThrow(
      /^systeminformation networkConnections\(\) failed: TypeError: boom in the helper$/,
    );
    await expect(runSiJob('processes', { launch: utilitySiLauncher(utilityProcess, join(bin, 'nonexistent.js'), { env }), timeoutMs: 10_000 })).rejects.toThrow(
      /^systeminformation processes\(\) failed: Error: Cannot find module/,
    );
    const killed = join(bin, 'killed.cjs');
    writeFileSync(killed, "process.kill(process.pid, 'SIGKILL');\n");
    await expect(runSiJob('connections', { launch: utilitySiLauncher(utilityProcess, killed, { env }), timeoutMs: 10_000 })).rejects.toThrow(
      /^systeminformation networkConnections\(\) failed: exit code 137$/,
    );
    // the real helper, failing on its own: the failure comes on its answer line
    const r = await launch()('bogus' as SiJob, 10_000);
    expect(r).toMatchObject({ code: 1, stderr: "unknown job 'bogus'", timedOut: false });
    expect(() => siJobResult('connections', 10_000, r)).toThrow(/^systeminformation networkConnections\(\) failed: unknown job 'bogus'$/);
  });

  it("the monitor worker asks its host over the worker protocol; the host's launcher runs the job and the answer comes back", async () => {
    good();
    const launcher = launch();
    const asked: Array<[SiJob, number]> = [];
    const host = new MonitorHost({
      workerPath: WORKER,
      source: 'systeminformation',
      intervalMs: 1000,
      siLauncher: (job, timeoutMs) => {
        asked.push([job, timeoutMs]);
        return launcher(job, timeoutMs);
      },
    });
    try {
      const first = new Promise<Snapshot>((resolve) => host.on('snapshot', resolve));
      host.start();
      const snapshot = await first;
      expect(snapshot.source).toBe('systeminformation');
      expect(snapshot.sockets.some((s) => s.localPort === 9090 && s.state === 'LISTEN')).toBe(true);
      expect(asked[0]).toEqual(['connections', SI_TIMEOUT_MS]);
      // every helper was forked by the host's launcher: the worker started none of its own
      expect(fx.forks.length).toBe(asked.length);
      expect(fx.forks.every((f) => f.modulePath === HELPER)).toBe(true);
    } finally {
      await host.stop();
    }
  });
});

/** A utility process played by a script, for the orders of events a real child cannot be made to give. */
class ScriptedChild extends EventEmitter implements UtilityChild {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  kills = 0;
  private current: number | undefined;
  get pid(): number | undefined {
    return this.current;
  }
  setPid(p: number | undefined): void {
    this.current = p;
  }
  kill(): boolean {
    this.kills++;
    return true;
  }
}
const scriptedChild = (): ScriptedChild => new ScriptedChild();

describe('utilitySiLauncher: the orders of events Electron may give', () => {
  it('an exit that comes before the output: the job ends at the exit, as a failure, without waiting for streams Electron drops', async () => {
    const child = scriptedChild();
    const killTree = vi.fn();
    const run = utilitySiLauncher({ fork: () => child }, '/helper.js', { killTree })('connections', 10_000);
    child.setPid(77);
    child.emit('spawn');
    child.setPid(undefined);
    child.emit('exit', 1);
    expect(await run).toMatchObject({ code: 1, stdout: '', stderr: '', timedOut: false, spawnError: null });
    expect(killTree).not.toHaveBeenCalled();
  });

  it('the answer line, in pieces, before any exit: the job ends with it and the helper is stopped', async () => {
    const child = scriptedChild();
    const run = utilitySiLauncher({ fork: () => child }, '/helper.js', { killTree: vi.fn() })('processes', 10_000);
    child.setPid(77);
    child.emit('spawn');
    child.stdout.write('{"list":');
    child.stdout.write('[]}\n');
    expect(await run).toMatchObject({ code: 0, stdout: '{"list":[]}', timedOut: false });
    expect(child.kills).toBe(1);
  });

  it('at the timeout: the tree of the pid it spawned with is killed, even once the handle has forgotten it; one that never spawned is let go', async () => {
    vi.useFakeTimers();
    try {
      const child = scriptedChild();
      const killTree = vi.fn();
      const run = utilitySiLauncher({ fork: () => child }, '/helper.js', { killTree })('connections', 3000);
      child.setPid(77);
      child.emit('spawn');
      child.setPid(undefined);
      await vi.advanceTimersByTimeAsync(3000);
      expect(await run).toMatchObject({ code: null, timedOut: true });
      expect(killTree).toHaveBeenCalledWith(77);
      expect(child.kills).toBe(1);

      const never = scriptedChild();
      const killTree2 = vi.fn();
      const run2 = utilitySiLauncher({ fork: () => never }, '/helper.js', { killTree: killTree2 })('connections', 3000);
      await vi.advanceTimersByTimeAsync(3000);
      expect(await run2).toMatchObject({ timedOut: true });
      expect(killTree2).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a fork that throws (before the app is ready, say) is a helper that could not start', async () => {
    const run = utilitySiLauncher(
      {
        fork: () => {
          throw new TypeError('utilityProcess cannot be created before app is ready.');
        },
      },
      '/helper.js',
    );
    const r = await run('connections', 1000);
    expect(() => siJobResult('connections', 1000, r)).toThrow(
      /^cannot start the systeminformation helper: utilityProcess cannot be created before app is ready\.$/,
    );
  });

  it("a fatal V8 error, reported by Electron's 'error' event, names the failure when stderr says nothing", async () => {
    const child = scriptedChild();
    const run = utilitySiLauncher({ fork: () => child }, '/helper.js', { killTree: vi.fn() })('connections', 10_000);
    child.emit('error', 'FatalError', 'v8::ToLocalChecked Empty MaybeLocal', 'report');
    child.emit('exit', 133);
    const r = await run;
    expect(() => siJobResult('connections', 10_000, r)).toThrow(/failed: FatalError at v8::ToLocalChecked Empty MaybeLocal$/);
  });
});
