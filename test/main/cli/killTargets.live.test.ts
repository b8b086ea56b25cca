import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PID_MAX } from '../../../src/main/cli/args';
import { runPortwatch } from '../../helpers/cli';
import { isRunning, NODE_LISTENER, PYTHON, spawnReady, type Child } from '../../helpers/children';
import { BIN } from '../../helpers/paths';

/** script(1), from util-linux, gives the CLI a terminal of its own. */
const hasScript = spawnSync('script', ['--version']).status === 0;
const isRoot = process.getuid?.() === 0;
const canUnshare = isRoot && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
/** Root of a user namespace of its own, made by user nobody: root there, and nobody to the processes outside. */
const AS_NAMESPACE_ROOT = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'unshare', '--user', '--map-root-user'];
const canUserns = isRoot && spawnSync(AS_NAMESPACE_ROOT[0] as string, [...AS_NAMESPACE_ROOT.slice(1), 'true']).status === 0;

/** A python server on six loopback ports (the first printed), with three clients of its own connected to the first. */
const SIX_PORTS = `
import socket, time
ls = []
for i in range(6):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    s.listen()
    ls.append(s)
clients = [socket.create_connection(('127.0.0.1', ls[0].getsockname()[1])) for _ in range(8)]
print(' '.join(str(s.getsockname()[1]) for s in ls), flush=True)
time.sleep(600)
`;

describe('portwatch kill: says what it will do, and what it will not', { timeout: 60_000 }, () => {
  let six: Child;
  let ports: number[];
  const dir = mkdtempSync(join(tmpdir(), 'pw-kill-'));
  const script = join(dir, 'sixports.py');
  beforeAll(async () => {
    writeFileSync(script, SIX_PORTS);
    six = await spawnReady(PYTHON, [script]);
    // as the prompt lists them: by port
    ports = six.firstLine
      .split(' ')
      .map(Number)
      .sort((a, b) => a - b);
  });
  afterAll(async () => {
    await six?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no such process: an error before any question, exit 1', async () => {
    // pids are below pid_max: pid_max itself is never one
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    const none = Math.min(pidMax, PID_MAX);
    for (const args of [
      ['kill', String(none)],
      ['kill', String(none), '--yes'],
    ]) {
      const r = await runPortwatch(args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`portwatch kill: no process with pid ${none}\n`);
    }
  });

  it('pid 1: refused, naming the process and why, in one clear line', async () => {
    const name = readFileSync('/proc/1/comm', 'utf8').trim();
    for (const args of [
      ['kill', '1'],
      ['kill', '1', '--yes', '--force'],
    ]) {
      const r = await runPortwatch(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^portwatch kill: refused to kill ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\S* [^\\n]*\\(pid 1, user root\\): pid 1 is init: ending it ends the machine\\n$`,
        ),
      );
      expect(r.stderr).not.toMatch(/pid 1 \(pid 1\)|0 sockets|which/);
    }
  });

  it('--port of a process on six ports lists all six and its connections, summarised, before asking', async () => {
    const r = await runPortwatch(['kill', '--port', String(ports[3])]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`python3 sixports.py (pid ${six.pid}, user root):\n`);
    expect(r.stderr).toContain(`  command line: ${PYTHON} ${script}\n`);
    expect(r.stderr).toContain(`  listens on:   6 sockets: ${ports.map((p) => `tcp 127.0.0.1:${p}`).join(', ')}\n`);
    expect(r.stderr).toContain('  connections:  8 (8 ESTABLISHED)\n');
    expect(r.stderr.match(/^ {4}tcp 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ ESTABLISHED$/gm)).toHaveLength(5);
    expect(r.stderr).toContain('    ... and 3 more\n');
    expect(r.stderr).toContain(`not confirmed: python3 sixports.py (pid ${six.pid}, user root) left running`);
    expect(isRunning(six.pid)).toBe(true);
  });

  it.runIf(hasScript)('in a terminal, the question comes after that list; answered no, the process runs on', () => {
    const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} kill --port ${ports[5]}`, '/dev/null'], {
      input: 'n\n',
      encoding: 'utf8',
      timeout: 30_000,
    });
    const listed = r.stdout.indexOf(`tcp 127.0.0.1:${ports[0]}, tcp 127.0.0.1:${ports[1]}`);
    const asked = r.stdout.indexOf(`Kill python3 sixports.py (pid ${six.pid}, user root)? [y/N]`);
    expect(listed).toBeGreaterThan(0);
    expect(asked).toBeGreaterThan(listed);
    expect(isRunning(six.pid)).toBe(true);
  });

  it.runIf(canUserns)('as a root that may not signal (a user namespace\'s root): says why, never "run elevated"', async () => {
    const victim = await spawnReady(process.execPath, ['-e', NODE_LISTENER, '127.0.0.1']);
    try {
      const r = spawnSync(AS_NAMESPACE_ROOT[0] as string, [...AS_NAMESPACE_ROOT.slice(1), process.execPath, BIN, 'kill', String(victim.pid), '--yes'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`(pid ${victim.pid}): permission denied even as root`);
      expect(r.stderr).not.toMatch(/elevated|sudo/);
      expect(isRunning(victim.pid)).toBe(true);
    } finally {
      await victim.stop();
    }
  });

  it.runIf(canUnshare)('as root in another pid namespace: says so, never "run elevated"', () => {
    const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', process.execPath, BIN, 'kill', '--port', String(ports[0]), '--yes'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`no process to kill for port ${ports[0]}: its owner is in another pid namespace`);
    expect(r.stderr).not.toMatch(/elevated|sudo/);
    expect(isRunning(six.pid)).toBe(true);
  });
});
