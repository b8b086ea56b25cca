import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ChangeLines, socketLine } from '../../../src/main/cli/watchLines';
import { NODE_LISTENER, spawnReady, waitFor } from '../../helpers/children';
import { BIN } from '../../helpers/paths';
import { makeProcess, makeSocket } from '../../helpers/sockets';

/** script(1), from util-linux, gives the CLI a terminal of its own. */
const hasScript = spawnSync('script', ['--version']).status === 0;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}

/** Collects a process's stdout and stderr as they arrive. */
function collect(p: ChildProcess): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return { out: () => out, err: () => err };
}

async function stop(p: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  p.kill('SIGINT');
  return exited;
}

describe('portwatch watch: one readable line per change', { timeout: 60_000 }, () => {
  it('prints + for a new listener and - for one gone, uncoloured in a pipe; a count of what is there now on stderr', async () => {
    const port = await freePort();
    const watch = spawn(process.execPath, [BIN, 'watch', '--interval', '250', '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const seen = collect(watch);
    try {
      await waitFor(() => (/0 sockets now; one line per change/.test(seen.err()) ? true : undefined), 15_000, 'the count');
      const child = await spawnReady(process.execPath, ['-e', NODE_LISTENER.replace('listen(0', `listen(${port}`), '127.0.0.1']);
      const added = `+ tcp 127.0.0.1:${port} LISTEN node[${child.pid}]\n`;
      await waitFor(() => (seen.out().includes(added) ? true : undefined), 10_000, 'the + line');
      await child.stop();
      await waitFor(() => (seen.out().includes(`- tcp 127.0.0.1:${port} LISTEN node[${child.pid}]\n`) ? true : undefined), 10_000, 'the - line');
      expect(seen.out()).not.toContain('\x1b');
      expect(seen.out()).not.toMatch(/^\{/m);
    } finally {
      expect(await stop(watch)).toBe(0);
    }
  });

  it.runIf(hasScript)('on a terminal the lines are coloured as the UI highlights (green new); NO_COLOR turns that off', async () => {
    const port = await freePort();
    const run = (env: NodeJS.ProcessEnv): ChildProcess =>
      spawn('script', ['-qfec', `${process.execPath} ${BIN} watch --interval 250 --port ${port}`, '/dev/null'], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      });
    const coloured = run({ NO_COLOR: '' });
    const plain = run({ NO_COLOR: '1' });
    const a = collect(coloured);
    const b = collect(plain);
    try {
      await waitFor(() => (/sockets now/.test(a.out()) && /sockets now/.test(b.out()) ? true : undefined), 15_000, 'both started');
      const child = await spawnReady(process.execPath, ['-e', NODE_LISTENER.replace('listen(0', `listen(${port}`), '127.0.0.1']);
      const line = `+ tcp 127.0.0.1:${port} LISTEN node[${child.pid}]`;
      await waitFor(() => (a.out().includes(line) && b.out().includes(line) ? true : undefined), 10_000, 'the + lines');
      expect(a.out()).toContain(`\x1b[32m${line}\x1b[0m`);
      expect(b.out()).not.toContain('\x1b[3');
      await child.stop();
      await waitFor(() => (a.out().includes(`\x1b[31m- tcp 127.0.0.1:${port}`) ? true : undefined), 10_000, 'the red - line');
    } finally {
      coloured.kill('SIGINT');
      plain.kill('SIGINT');
    }
  });

  it('~ for a change says what it was; every line is made inert; colour only when asked', () => {
    const evil = makeProcess(7, 'evil\x1b[2Jname');
    const before = makeSocket({ id: 'c', state: 'SYN_SENT', remoteAddress: '1.1.1.1', remotePort: 443, listening: false, pid: 7, pids: [7], process: evil });
    const after = { ...before, state: 'ESTABLISHED' as const };
    const lines = new ChangeLines(false);
    lines.snapshot({ seq: 1, takenAt: 0, source: 'netlink', sockets: [before] });
    const text = lines.delta({ seq: 2, takenAt: 1, added: [], removed: [], changed: [after], closed: [] });
    expect(text).toBe(`~ ${socketLine(after).replace('\x1b', '\\e')} (was SYN_SENT)\n`);
    expect(text).toContain('-> 1.1.1.1:443 ESTABLISHED evil\\e[2Jname[7]');
    expect(text).not.toContain('\x1b');
    const gone = new ChangeLines(true);
    gone.snapshot({ seq: 1, takenAt: 0, source: 'netlink', sockets: [after] });
    const red = gone.delta({ seq: 2, takenAt: 1, added: [], removed: ['c'], changed: [], closed: [] });
    expect(red.startsWith('\x1b[31m- tcp ')).toBe(true);
    expect(red.endsWith('\x1b[0m\n')).toBe(true);
  });

  it('- for a socket whose process exited says whose it was, though the last poll saw it ownerless', () => {
    const node = makeProcess(42, 'node');
    const owned = makeSocket({ id: 'l', localPort: 8080, pid: 42, pids: [42], process: node });
    // the process is exiting: its descriptors are gone, its listener not yet
    const orphan = { ...owned, pid: null, pids: [], process: null, noOwner: 'not-found' as const };
    const lines = new ChangeLines(false);
    lines.snapshot({ seq: 1, takenAt: 0, source: 'netlink', sockets: [owned] });
    expect(lines.delta({ seq: 2, takenAt: 1, added: [], removed: [], changed: [orphan], closed: [] })).toContain('(was node[42])');
    expect(lines.delta({ seq: 3, takenAt: 2, added: [], removed: ['l'], changed: [], closed: [] })).toBe(`- ${socketLine(owned)}\n`);
    // one that never had an owner stays as it was
    lines.snapshot({ seq: 4, takenAt: 3, source: 'netlink', sockets: [orphan] });
    expect(lines.delta({ seq: 5, takenAt: 4, added: [], removed: ['l'], changed: [], closed: [] })).toBe(`- ${socketLine(orphan)}\n`);
  });
});
