import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessKiller, startTimeOf } from '../../../src/main/engine/kill';
import { isRunning as alive, NODE_LISTENER, spawnReady, type Child } from '../../helpers/children';
import { BIN } from '../../helpers/paths';

const isRoot = process.getuid?.() === 0;
const kids: Child[] = [];
afterAll(async () => {
  for (const k of kids) {
    try {
      process.kill(k.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A stand-in for Portwatch: a separate process, so the test's own children are not its helpers. */
async function standIn(): Promise<Child> {
  const c = await spawnReady(process.execPath, ['-e', "console.log('up'); setInterval(() => {}, 1000)"]);
  kids.push(c);
  return c;
}

describe('ProcessKiller on real processes', () => {
  // pidfds: false is a kernel or a host without them: the start-time check alone
  it.each([true, false])('ends a process that exits on SIGTERM, and says so only once it is gone (pidfds: %s)', async (pidfds) => {
    const self = await standIn();
    const child = await spawnReady(process.execPath, ['-e', "console.log('up'); setInterval(() => {}, 1000)"]);
    kids.push(child);
    const killer = new ProcessKiller({ selfPid: self.pid, pidfds });
    const out = await killer.terminate({ pid: child.pid, startTime: startTimeOf(child.pid) });
    expect(out).toMatchObject({ result: 'exited', pid: child.pid, signal: 'SIGTERM' });
    expect(alive(child.pid)).toBe(false);
  });

  it('pins the process when the target is resolved, and kills through the pin', async () => {
    const self = await standIn();
    const child = await spawnReady(process.execPath, ['-e', "console.log('up'); setInterval(() => {}, 1000)"]);
    kids.push(child);
    const killer = new ProcessKiller({ selfPid: self.pid });
    const target = killer.pin(child.pid);
    try {
      expect(target).toMatchObject({ pid: child.pid, startTime: startTimeOf(child.pid), pinned: true });
      expect(await killer.terminate(target)).toMatchObject({ result: 'exited', pid: child.pid, signal: 'SIGTERM' });
      expect(alive(child.pid)).toBe(false);
      expect(await killer.terminate(target, true)).toEqual({ result: 'already-gone', pid: child.pid });
    } finally {
      target.close();
    }
    expect(target.pinned).toBe(false);
    // nothing to pin: a gone pid and a thread id carry no start time, which no process matches
    const tid = Number(readdirSync(`/proc/${self.pid}/task`).find((t) => Number(t) !== self.pid));
    for (const pid of [child.pid, tid]) expect(killer.pin(pid)).toMatchObject({ pid, startTime: null, pinned: false });
  });

  it('reports a process that ignores SIGTERM as still running, and Force (SIGKILL) ends it', async () => {
    const self = await standIn();
    const child = await spawnReady(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)"]);
    kids.push(child);
    const killer = new ProcessKiller({ selfPid: self.pid, waitMs: 400 });
    const target = { pid: child.pid, startTime: startTimeOf(child.pid) };
    const first = await killer.terminate(target);
    expect(first).toMatchObject({ result: 'still-running', signal: 'SIGTERM' });
    expect(alive(child.pid)).toBe(true);
    const forced = await killer.terminate(target, true);
    expect(forced).toMatchObject({ result: 'exited', signal: 'SIGKILL' });
    expect(alive(child.pid)).toBe(false);
  });

  it.each([true, false])('refuses a pid whose start time no longer matches: the process changed (pidfds: %s)', async (pidfds) => {
    const self = await standIn();
    const child = await spawnReady(process.execPath, ['-e', "console.log('up'); setInterval(() => {}, 1000)"]);
    kids.push(child);
    const killer = new ProcessKiller({ selfPid: self.pid, pidfds });
    const out = await killer.terminate({ pid: child.pid, startTime: (startTimeOf(child.pid) as number) - 5000 });
    expect(out).toMatchObject({ result: 'refused', code: 'changed', reason: expect.stringMatching(/process changed/) });
    expect(alive(child.pid)).toBe(true);
    expect(await killer.terminate({ pid: child.pid, startTime: null })).toMatchObject({ result: 'refused', code: 'changed' });
  });

  it('refuses pid 1, itself, its parents, its own helpers, and what is not a pid', async () => {
    const killer = new ProcessKiller();
    for (const pid of [1, process.pid, process.ppid]) {
      const out = await killer.terminate({ pid, startTime: startTimeOf(pid) });
      expect(out, String(pid)).toMatchObject({ result: 'refused', code: 'protected' });
    }
    for (const pid of [0, -1, 1.5, NaN]) expect(await killer.terminate({ pid, startTime: 1 })).toMatchObject({ result: 'refused', code: 'invalid' });
    // a child of "Portwatch" (here: this test process) is one of its helpers
    const helper = await spawnReady(process.execPath, ['-e', "console.log('up'); setInterval(() => {}, 1000)"]);
    kids.push(helper);
    expect(await killer.terminate({ pid: helper.pid, startTime: startTimeOf(helper.pid) })).toMatchObject({
      result: 'refused',
      reason: expect.stringMatching(/helper/),
    });
    expect(alive(helper.pid)).toBe(true);
  });

  it('refuses a thread id, even of Portwatch itself: signalling a thread ends its whole process', async () => {
    // the stand-in for Portwatch is a node process, which always runs helper threads (libuv, V8)
    const self = await standIn();
    const tid = Number(readdirSync(`/proc/${self.pid}/task`).find((t) => Number(t) !== self.pid));
    expect(tid).toBeGreaterThan(0);
    const killer = new ProcessKiller({ selfPid: self.pid });
    const reason = `${tid} is a thread of process ${self.pid}, not a process`;
    expect(killer.guard(tid)).toBe(reason);
    for (const force of [false, true]) {
      expect(await killer.terminate({ pid: tid, startTime: startTimeOf(tid) }, force)).toEqual({ result: 'refused', pid: tid, code: 'invalid', reason });
    }
    expect(alive(self.pid)).toBe(true);
    // a thread of any other process is refused the same way
    const other = await standIn();
    const otherTid = Number(readdirSync(`/proc/${other.pid}/task`).find((t) => Number(t) !== other.pid));
    expect(await killer.terminate({ pid: otherTid, startTime: startTimeOf(otherTid) })).toMatchObject({
      result: 'refused',
      reason: `${otherTid} is a thread of process ${other.pid}, not a process`,
    });
    expect(alive(other.pid)).toBe(true);
  });

  it('says "already exited" for a process that is gone', async () => {
    const self = await standIn();
    const p = spawn(process.execPath, ['-e', '0']);
    const pid = p.pid as number;
    await new Promise((r) => p.once('exit', r));
    expect(await new ProcessKiller({ selfPid: self.pid }).terminate({ pid, startTime: 1 })).toEqual({ result: 'already-gone', pid });
  });

  it.runIf(isRoot)('EPERM: an unprivileged Portwatch may not kill root’s process, and says whose it is', async () => {
    const victim = await spawnReady(process.execPath, ['-e', "console.log('up'); setInterval(() => {}, 1000)"]);
    kids.push(victim);
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'kill', String(victim.pid), '--yes'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('permission denied: owned by root; run Portwatch elevated');
    expect(alive(victim.pid)).toBe(true);
  });
});

describe('portwatch kill', () => {
  async function freePortPair(): Promise<[number, number]> {
    // a port P whose "near miss" P*10+1 (3000 vs 30001) is free too
    for (let i = 0; i < 200; i++) {
      const p = 1024 + Math.floor(Math.random() * 5000);
      const ok = await Promise.all(
        [p, p * 10 + 1].map(
          (port) =>
            new Promise<boolean>((resolve) => {
              const s = createServer();
              s.once('error', () => resolve(false));
              s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
            }),
        ),
      );
      if (ok.every(Boolean)) return [p, p * 10 + 1];
    }
    throw new Error('no free port pair');
  }

  it('--port kills exactly the listener on that port: its client and a near-miss port stay alive', async () => {
    const [port, nearMiss] = await freePortPair();
    const server = await spawnReady(process.execPath, ['-e', NODE_LISTENER.replace('listen(0', `listen(${port}`), '127.0.0.1']);
    const other = await spawnReady(process.execPath, ['-e', NODE_LISTENER.replace('listen(0', `listen(${nearMiss}`), '127.0.0.1']);
    const client = await spawnReady(process.execPath, [
      '-e',
      `const c=require('net').connect(${port},'127.0.0.1',()=>console.log('up'));c.on('error',()=>{});c.on('close',()=>{});setInterval(()=>{},1000)`,
    ]);
    kids.push(server, other, client);
    const r = spawnSync(process.execPath, [BIN, 'kill', '--port', String(port), '--tcp', '--yes'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // named as people think of it (processSummary): `node -e` for a node -e SCRIPT
    expect(r.stdout).toMatch(new RegExp(`node -e \\(pid ${server.pid}\\) exited \\d+ ms after SIGTERM`));
    expect(alive(server.pid)).toBe(false);
    expect(alive(client.pid)).toBe(true);
    expect(alive(other.pid)).toBe(true);
  });

  it('refuses without --yes when no terminal can ask, and pid 1', () => {
    const r = spawnSync(process.execPath, [BIN, 'kill', String(process.pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refused to kill .*that is a parent of Portwatch|not confirmed/);
    const none = spawnSync(process.execPath, [BIN, 'kill', '--port', '1', '--yes'], { encoding: 'utf8' });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('nothing listens on port 1');
    // bad arguments (exit 2): test/main/cli/badFlags.test.ts
    const one = spawnSync(process.execPath, [BIN, 'kill', '1', '--yes'], { encoding: 'utf8' });
    expect(one.status).toBe(1);
    expect(one.stderr).toContain('pid 1 is init');
  });
});
