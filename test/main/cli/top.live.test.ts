import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQuery } from '../../../src/shared/query';
import { runPortwatch } from '../../helpers/cli';
import { isRunning, PYTHON, spawnReady, waitFor, type Child } from '../../helpers/children';
import { BIN } from '../../helpers/paths';

/*
 * `portwatch top` in a real terminal: tmux gives it a pseudo-terminal of 80x24, keys go in with send-keys and
 * what it shows comes back with capture-pane. The traffic is real: python children, each sending a known rate
 * over loopback to itself (a listener and both ends of one connection in one process). Every wait polls the
 * screen for a condition.
 */

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** Sends `rate` bytes a second, in tenths, from a client to its own listener; prints the listener's port. */
const SENDER = `
import socket, sys, threading, time
rate = int(sys.argv[1])
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
port = srv.getsockname()[1]
def serve():
    c, _ = srv.accept()
    while c.recv(65536):
        pass
threading.Thread(target=serve, daemon=True).start()
cli = socket.create_connection(('127.0.0.1', port))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 0))
print(port, flush=True)
chunk = b'x' * (rate // 10)
t = time.monotonic()
while True:
    cli.sendall(chunk)
    u.sendto(b'y', u.getsockname())
    t += 0.1
    time.sleep(max(0, t - time.monotonic()))
`;

const dir = mkdtempSync(join(tmpdir(), 'pw-top-'));
/** A sender named `name`.py (so top shows `python3 name.py`) at `rate` bytes a second. */
function sender(name: string, rate: number): Promise<Child> {
  const file = join(dir, `${name}.py`);
  writeFileSync(file, SENDER);
  return spawnReady(PYTHON, [file, String(rate)]);
}

/**
 * Runs tmux on a server of this test's own (-L), so nothing of the user's is touched. Each describe has its own
 * server: a `kill-server` returns before that server has gone, and a session started on the same name in that
 * moment fails with "server exited unexpectedly".
 */
function tmuxOn(server: string): (...args: string[]) => string {
  return (...args) => {
    const r = spawnSync('tmux', ['-L', server, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
}
const SERVER = `pw-top-${process.pid}`;
const tmux = tmuxOn(SERVER);
const screen = (): string => tmux('capture-pane', '-p', '-t', 'top');
const lines = (): string[] => screen().split('\n');
const keys = (...k: string[]): string => tmux('send-keys', '-t', 'top', ...k);
/** Waits until the screen satisfies `check`; returns that screen. */
function until(check: (s: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  return waitFor(
    () => {
      const s = screen();
      return check(s) ? s : undefined;
    },
    timeoutMs,
    `${what}; the screen was:\n${screen()}`,
  );
}
/** Whether the filter is being typed (capture-pane drops the prompt's trailing space: `/` alone). */
const prompting = (s: string): boolean => /^\/( |$)/m.test(s) && s.includes('enter: apply  esc: cancel');
/** The index of the first line naming `name`, -1 if none. */
const row = (s: string, name: string): number => s.split('\n').findIndex((l) => l.includes(name));
/** The IN and OUT rates of a process row, in bytes a second. */
function rates(line: string): [number, number] {
  const units: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
  const m = [...line.matchAll(/([\d.]+) (B|kB|MB|GB)\/s/g)].map((x) => Number(x[1]) * (units[x[2] as string] as number));
  return [m[0] ?? NaN, m[1] ?? NaN];
}

describe.runIf(hasTmux)('portwatch top in a terminal', { timeout: 60_000 }, () => {
  let fast: Child;
  let slow: Child;
  beforeAll(async () => {
    [fast, slow] = await Promise.all([sender('fastsender', 200_000), sender('slowsender', 20_000)]);
    // a shell in an 80x24 terminal, which runs top and says how it exited
    tmux('new-session', '-d', '-x', '80', '-y', '24', '-s', 'top', 'sh');
    // every byte top writes to the terminal, to look for full-screen clears
    tmux('pipe-pane', '-t', 'top', '-o', `cat >> ${join(dir, 'pane.out')}`);
    tmux('set-option', '-t', 'top', 'window-size', 'manual');
    // CI set, as many shells and every CI runner have it: Ink must still draw every frame. Only the senders: other
    // tests' processes (a Chromium, a server) move traffic on this machine too, and would take the first row.
    keys(`CI=true ${process.execPath} ${BIN} top --interval 1000 --filter sender; echo EXITED:$?`, 'Enter');
  });
  afterAll(async () => {
    spawnSync('tmux', ['-L', SERVER, 'kill-server']);
    await Promise.all([fast?.stop(), slow?.stop()]);
  });

  it('lists processes busiest first, with their rates, in 80 columns', async () => {
    const s = await until(
      (x) => {
        const f = x.split('\n')[row(x, 'python3 fastsender.py')];
        return f !== undefined && rates(f)[1] > 100_000 && row(x, 'python3 slowsender.py') > 0;
        // the first screen waits for Node, Ink's layout engine (WebAssembly) and the first two polls: on a loaded
        // machine that is most of this test's time
      },
      'both senders with rates',
      45_000,
    );
    expect(row(s, 'python3 fastsender.py')).toBeLessThan(row(s, 'python3 slowsender.py'));
    for (const l of s.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    // the header: machine totals; the heading: the columns
    expect(s).toMatch(/^portwatch top {2}in [\d.]+ [kM]B\/s {2}out [\d.]+ [kM]B\/s/);
    expect(s).toMatch(/PROCESS +PID +IN\* +OUT\* +TOTAL CONNS/);
    // each sender's process row: its pid, and a rate near what it sends (in and out: both ends are its own)
    const f = lines()[row(s, 'fastsender')] as string;
    expect(f).toContain(String(fast.pid));
    const [fin, fout] = rates(f);
    expect(fin).toBeGreaterThan(120_000);
    expect(fout).toBeLessThan(320_000);
  });

  it('redraws without clearing the screen: Ink rewrites the lines it drew, never the whole terminal', async () => {
    const out = join(dir, 'pane.out');
    // two polls' redraws at least (the rates change every second)
    const first = readFileSync(out, 'latin1').length;
    await waitFor(() => (readFileSync(out, 'latin1').length > first + 2000 ? true : undefined), 15_000, 'more redraws');
    const text = readFileSync(out, 'latin1');
    // ESC[2J (erase display) and ESC[3J (erase scrollback) are what a flickering full redraw sends; ESC c resets
    for (const clear of ['\x1b[2J', '\x1b[3J', '\x1bc']) expect(text).not.toContain(clear);
    expect(text).toContain('\x1b[?1049h');
  });

  it('opens a process: its connections, the UDP one n/a (no counters), and a connection in detail', async () => {
    // the fast sender is the first row (the filter shows only the senders), and the selection starts there
    expect(row(screen(), 'fastsender')).toBe(3);
    keys('Enter');
    const s = await until((x) => /udp 127\.0\.0\.1:\d+ UNCONN +n\/a +n\/a +n\/a/.test(x), 'the expanded connections');
    expect(s).toMatch(/tcp 127\.0\.0\.1:\d+ LISTEN/);
    // at 80 columns the local end is its port, so the remote end fits whole
    expect(s).toMatch(/tcp :\d+ <- 127\.0\.0\.1:\d+ +[\d.]+ kB\/s +0 B\/s/);
    expect(s).toMatch(/tcp :\d+ -> 127\.0\.0\.1:\d+ +0 B\/s +[\d.]+ kB\/s/);
    keys('Down', 'Enter');
    const d = await until((x) => /^local {3}127\.0\.0\.1:\d+/m.test(x), 'the details');
    expect(d).toMatch(/^process python3 \(pid \d+, user \w+\)/m);
    expect(d).toMatch(/^command .*fastsender\.py 200000/m);
    keys('Escape');
    await until((x) => x.includes('PROCESS'), 'the list again');
    keys('Up', 'Enter');
    await until((x) => !x.includes('UNCONN') && row(x, 'slowsender') > 0, 'the process closed again');
  });

  it('cycles the sort with s', async () => {
    keys('s');
    await until((x) => /sort: in/.test(x), 'sort: in');
    keys('s', 's', 's');
    const s = await until((x) => /sort: name/.test(x) && /PROCESS\*/.test(x), 'sort: name');
    expect(s).toMatch(/PROCESS\*/);
    keys('s');
    await until((x) => /sort: pid/.test(x), 'sort: pid');
    keys('s');
    await until((x) => /sort: rate/.test(x), 'sort: rate');
  });

  it('filters with /: an error shows where, Esc cancels, Enter applies', async () => {
    keys('/');
    await until((x) => prompting(x) && /^\/ sender$/m.test(x), 'the filter prompt, holding the filter');
    keys(...Array<string>(6).fill('BSpace'));
    keys('-l', 'proc:x port:99999');
    const q = parseQuery('proc:x port:99999');
    if (q.ok) throw new Error('the query should be refused');
    const bad = await until((x) => x.includes(`^ at character ${q.position + 1}: `), 'the error at its character');
    expect(q.position).toBeGreaterThan(0);
    expect(bad).toMatch(/^\/ proc:x port:99999$/m);
    expect(
      bad
        .split('\n')
        .find((l) => l.includes('^ at character'))
        ?.indexOf('^'),
    ).toBe(2 + q.position);
    keys('Escape');
    await until((x) => !prompting(x) && x.includes('filter: sender') && row(x, 'fastsender') > 0, 'the prompt gone, the filter as it was');
    keys('/');
    await until(prompting, 'the filter prompt again');
    keys(...Array<string>(6).fill('BSpace'));
    keys('-l', `pid:${slow.pid}`);
    keys('Enter');
    const s = await until((x) => x.includes(`filter: pid:${slow.pid}`) && row(x, 'fastsender') < 0, 'only the slow sender');
    expect(row(s, 'slowsender')).toBeGreaterThan(0);
  });

  it('freezes with space: a new process stays out of view until it resumes', async () => {
    keys('/');
    await until(prompting, 'the filter prompt');
    // clear the filter (it holds `pid:N`) with sixteen backspaces in one write, as a fast typist or a loaded
    // machine hands them over (one read, no key flags), then show every python sender
    keys(...Array<string>(16).fill('BSpace'));
    keys('-l', 'sender');
    keys('Enter');
    await until((x) => x.includes('filter: sender') && row(x, 'fastsender') > 0, 'the senders');
    keys('Space');
    await until((x) => x.includes('FROZEN'), 'FROZEN');
    const late = await sender('latesender', 50_000);
    try {
      // the late sender is listening (it printed its port): two polls go by while frozen, which would show it
      const frozenAt = screen();
      const behind = await until((x) => /FROZEN, [2-9]\d* polls behind/.test(x), 'two polls behind');
      expect(row(behind, 'latesender')).toBe(-1);
      expect(screen().split('\n').slice(3, -3)).toEqual(frozenAt.split('\n').slice(3, -3));
      keys('Space');
      await until((x) => row(x, 'latesender') > 0 && !x.includes('FROZEN'), 'the late sender after resuming');
    } finally {
      await late.stop();
    }
  });

  it('kills a process only after y, with the CLI confirmation', async () => {
    const victim = await sender('victimsender', 30_000);
    try {
      keys('/');
      await until(prompting, 'the filter prompt');
      for (let i = 0; i < 16; i++) keys('BSpace');
      keys('-l', `pid:${victim.pid}`);
      keys('Enter');
      await until((x) => row(x, 'victimsender') > 0 && row(x, 'slowsender') < 0, 'the victim alone');
      keys('k');
      const ask = await until((x) => x.includes(`Kill python3 (pid ${victim.pid}`), 'the confirmation');
      expect(ask).toMatch(/which listens on tcp\/\d+, udp\/\d+\?/);
      expect(ask).toMatch(/^ {2}listens {2}tcp 127\.0\.0\.1:\d+/m);
      expect(ask).toMatch(/^ {2}connected tcp 127\.0\.0\.1:\d+ - 127\.0\.0\.1:\d+ ESTABLISHED/m);
      expect(ask).toMatch(/\[y\/N\]/);
      expect(isRunning(victim.pid)).toBe(true);
      // anything but y leaves it running
      keys('n');
      await until((x) => x.includes('not killed'), 'not killed');
      expect(isRunning(victim.pid)).toBe(true);
      keys('k');
      await until((x) => x.includes(`Kill python3 (pid ${victim.pid}`), 'the confirmation again');
      expect(isRunning(victim.pid)).toBe(true);
      keys('y');
      await until((x) => new RegExp(`python3 \\(pid ${victim.pid}\\) exited`).test(x), 'the outcome');
      expect(isRunning(victim.pid)).toBe(false);
    } finally {
      await victim.stop();
    }
  });

  it('follows a resize, and quits with q, restoring the terminal', async () => {
    tmux('resize-window', '-t', 'top', '-x', '120', '-y', '40');
    const big = await until((x) => x.split('\n').some((l) => /^PROCESS +PID/.test(l) && l.length === 120), 'the 120-column heading');
    expect(big.split('\n').length).toBeGreaterThanOrEqual(39);
    tmux('resize-window', '-t', 'top', '-x', '80', '-y', '24');
    await until((x) => x.split('\n').some((l) => /^PROCESS +PID/.test(l) && l.length === 80), 'the 80-column heading again');
    expect(tmux('display', '-p', '-t', 'top', '#{alternate_on}').trim()).toBe('1');
    keys('q');
    const s = await until((x) => x.includes('EXITED:0'), 'the shell again');
    // the alternate screen is left: the shell's screen is back, top's rows are gone, the cursor shows
    expect(s).not.toContain('PROCESS');
    expect(tmux('display', '-p', '-t', 'top', '#{alternate_on} #{cursor_flag}').trim()).toBe('0 1');
    // the terminal is out of raw mode: a line typed is echoed and run as a line
    keys('echo typed-$((6*7))', 'Enter');
    await until((x) => x.includes('typed-42'), 'the shell line');
  });

  it('quits with Ctrl-C too, restoring the terminal', async () => {
    keys('clear', 'Enter');
    keys(`${process.execPath} ${BIN} top --interval 1000 --filter sender; echo AGAIN:$?`, 'Enter');
    await until((x) => row(x, 'fastsender') > 0, 'top again');
    keys('C-c');
    await until((x) => x.includes('AGAIN:0'), 'the shell after Ctrl-C');
    expect(tmux('display', '-p', '-t', 'top', '#{alternate_on} #{cursor_flag}').trim()).toBe('0 1');
  });
});

/** Listens on loopback, then runs top as its child and waits for it: a parent of Portwatch with a socket. */
const PARENT = `
import socket, subprocess, sys
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(1)
sys.exit(subprocess.call(sys.argv[1:]))
`;

describe.runIf(hasTmux)('portwatch top refuses to kill its own parent, as portwatch kill does', { timeout: 60_000 }, () => {
  const PARENT_SERVER = `pw-top-parent-${process.pid}`;
  const tmux = tmuxOn(PARENT_SERVER);
  afterAll(() => {
    spawnSync('tmux', ['-L', PARENT_SERVER, 'kill-server']);
  });

  it('says why, and offers no y', async () => {
    const file = join(dir, 'topparent.py');
    writeFileSync(file, PARENT);
    tmux('new-session', '-d', '-x', '80', '-y', '24', '-s', 'parent', `${PYTHON} ${file} ${process.execPath} ${BIN} top --interval 1000 --filter topparent`);
    const show = (): string => tmux('capture-pane', '-p', '-t', 'parent');
    const wait = (check: (s: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> =>
      waitFor(() => (check(show()) ? show() : undefined), timeoutMs, `${what}:\n${show()}`);
    // the first screen: Node, Ink's WebAssembly layout engine and a first poll (slow on a loaded machine)
    await wait((x) => x.includes('python3 topparent.py'), 'the parent listed', 45_000);
    tmux('send-keys', '-t', 'parent', 'k');
    const s = await wait((x) => x.includes('Refused to kill python3'), 'the refusal');
    expect(s).toMatch(/parent of Portwatch/);
    expect(s).not.toMatch(/y: kill/);
    tmux('send-keys', '-t', 'parent', 'y');
    await wait((x) => x.includes('PROCESS') && !x.includes('Refused'), 'the list again');
    const pid = Number(tmux('display', '-p', '-t', 'parent', '#{pane_pid}').trim());
    expect(isRunning(pid)).toBe(true);
    tmux('send-keys', '-t', 'parent', 'q');
  });
});

describe('top --once and list --rates, as whole processes', () => {
  let sending: Child;
  beforeAll(async () => {
    sending = await sender('oncesender', 100_000);
  });
  afterAll(async () => {
    await sending?.stop();
  });

  it('top --once --json: one sample with the process, its rates and its connections', async () => {
    const r = await runPortwatch(['top', '--once', '--json', '--interval', '1000']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      intervalMs: number;
      totals: { rateIn: number };
      processes: Array<{ pid: number; summary: string; rateIn: number; rateOut: number; sockets: Array<{ protocol: string; rateIn: number | null }> }>;
    };
    expect(out.intervalMs).toBeGreaterThanOrEqual(1000);
    const p = out.processes.find((x) => x.pid === sending.pid);
    expect(p?.summary).toBe('python3 oncesender.py');
    // both ends are its own: 100 kB/s in and out, give or take the machine's load
    expect(p?.rateIn).toBeGreaterThan(50_000);
    expect(p?.rateIn).toBeLessThan(200_000);
    expect(p?.rateOut).toBeGreaterThan(50_000);
    expect(out.totals.rateIn).toBeGreaterThanOrEqual(p?.rateIn ?? 0);
    const tcp = p?.sockets.filter((s) => s.protocol === 'tcp') ?? [];
    expect(tcp).toHaveLength(2);
    // its UDP socket is unconnected (a listener): not among the connections, whose UDP rates would be null
    for (const s of p?.sockets ?? []) if (s.protocol === 'udp') expect(s.rateIn).toBeNull();
  });

  it('list --rates: rate columns in the table, rateIn/rateOut in --json, n/a for UDP', async () => {
    const t = await runPortwatch(['list', '--rates', '--interval', '1000', '--pid', String(sending.pid)]);
    expect(t.code, t.stderr).toBe(0);
    const [head, ...rows] = t.stdout.trim().split('\n');
    expect(head).toMatch(/USER +IN\/S +OUT\/S +PROCESS$/);
    expect(rows.find((l) => l.startsWith('udp '))).toMatch(/n\/a +n\/a +python3$/);
    expect(rows.filter((l) => / ESTABLISHED /.test(l) && /[\d.]+ kB\/s +[\d.]+ B\/s|[\d.]+ B\/s +[\d.]+ kB\/s/.test(l))).toHaveLength(2);
    const j = await runPortwatch(['list', '--rates', '--json', '--interval', '1000', '--pid', String(sending.pid), '--tcp']);
    expect(j.code, j.stderr).toBe(0);
    const sockets = (JSON.parse(j.stdout) as { sockets: Array<{ state: string; rateIn: number | null; rateOut: number | null }> }).sockets;
    const est = sockets.filter((s) => s.state === 'ESTABLISHED');
    expect(est).toHaveLength(2);
    // one end sends, the other receives: the sum each way is the sender's 100 kB/s
    const sumIn = est.reduce((a, s) => a + (s.rateIn ?? 0), 0);
    expect(sumIn).toBeGreaterThan(50_000);
    expect(sumIn).toBeLessThan(200_000);
  });

  it('top without a terminal says what to run instead', async () => {
    const r = await runPortwatch(['top']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('portwatch top: needs a terminal; for scripts, portwatch top --once --json');
  });
});
