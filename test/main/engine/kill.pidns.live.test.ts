import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/paths';

const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

/**
 * Runs as pid 1 of a throwaway pid namespace, where pids are small and ns_last_pid chooses the next one: process A
 * gets pid P, is pinned, exits; process B then gets the same pid P. The killer reads a procfs in which P's stat
 * keeps A's start time: B started in the same clock tick as A, the one case a start-time check cannot tell apart.
 */
const IN_NAMESPACE = `
const { ProcessKiller } = require(process.argv[1]);
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const P = 300;
const running = (pid) => { try { return !/\\) Z /.test(fs.readFileSync('/proc/' + pid + '/stat', 'latin1')); } catch { return false; } };
function spawnAt(pid) {
  fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
  const c = spawn('sleep', ['600'], { stdio: 'ignore' });
  if (c.pid !== pid) throw new Error('wanted pid ' + pid + ', got ' + c.pid);
  return c;
}
(async () => {
  const portwatch = spawn('sleep', ['600'], { stdio: 'ignore' });
  const a = spawnAt(P);
  // the procfs the killer reads: the real one, except that P's stat is A's for good
  const root = fs.mkdtempSync(path.join(process.argv[2], 'proc-'));
  fs.writeFileSync(path.join(root, 'stat'), fs.readFileSync('/proc/stat'));
  for (const pid of [1, portwatch.pid]) fs.symlinkSync('/proc/' + pid, path.join(root, String(pid)));
  fs.mkdirSync(path.join(root, String(P)));
  fs.writeFileSync(path.join(root, String(P), 'stat'), fs.readFileSync('/proc/' + P + '/stat'));
  fs.symlinkSync('/proc/' + P + '/status', path.join(root, String(P), 'status'));
  const killer = new ProcessKiller({ selfPid: portwatch.pid, procRoot: root, waitMs: 5000 });

  const pinnedA = killer.pin(P);
  const aPinned = pinnedA.pinned;
  await new Promise((r) => { a.once('exit', r); a.kill('SIGKILL'); });
  const b = spawnAt(P);
  const toA = await killer.terminate(pinnedA, true);
  pinnedA.close();
  const bAfterKillOfA = running(b.pid);
  // B itself, pinned: the signal goes through its pidfd, and its exit is seen although P's stat never changes
  const pinnedB = killer.pin(P);
  const bPinned = pinnedB.pinned;
  const toB = await killer.terminate(pinnedB, true);
  pinnedB.close();
  console.log(JSON.stringify({ pinnedA: aPinned, toA, bAfterKillOfA, pinnedB: bPinned, toB, bAfterKillOfB: running(b.pid) }));
  portwatch.kill('SIGKILL');
  process.exit(0);
})().catch((e) => { console.error(e.stack); process.exit(1); });
`;

describe.runIf(canUnshare)('ProcessKiller and a pid reused by another process (in a pid namespace of its own)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-pidns-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a pinned target whose process exited never hits the process that took its pid, even in the same clock tick', () => {
    const bundle = join(dir, 'kill.cjs');
    buildSync({
      stdin: { contents: `export { ProcessKiller } from ${JSON.stringify(join(ROOT, 'src/main/engine/kill.ts'))};`, resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: bundle,
      logLevel: 'error',
    });
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, '-e', IN_NAMESPACE, bundle, dir], {
      encoding: 'utf8',
      timeout: 20_000,
      // the bundle sits outside the repository: koffi is found through NODE_PATH
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      pinnedA: true,
      toA: { result: 'already-gone', pid: 300 },
      bAfterKillOfA: true,
      pinnedB: true,
      toB: { result: 'exited', pid: 300, signal: 'SIGKILL' },
      bAfterKillOfB: false,
    });
  });
});
