import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../../src/main/engine/monitor';
import { ProcfsSource } from '../../../src/main/engine/sources/procfs';
import { UserDirectory } from '../../../src/main/engine/users';
import { FIXTURES } from '../../helpers/paths';

/**
 * A /proc of our own making: the recorded kernel tables of namespace pwfx-b, plus processes whose entries
 * are missing in the ways a real /proc loses them mid-read (a process exits between readdir and readlink).
 */
describe('procfs source when /proc misbehaves', () => {
  let root: string;
  const users = new UserDirectory('/etc/passwd', false);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'pw-fakeproc-'));
    cpSync(join(FIXTURES, 'procfs', 'pwfx-b'), join(root, 'net'), { recursive: true });
    writeFileSync(join(root, 'stat'), 'cpu  1 2 3\nbtime 1700000000\n');
    const proc = (pid: number, fds: Record<string, string>, withStat = true): void => {
      mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
      for (const [fd, target] of Object.entries(fds)) symlinkSync(target, join(root, String(pid), 'fd', fd));
      if (withStat) {
        writeFileSync(join(root, String(pid), 'stat'), `${pid} (server) S 1 ${pid} ${pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0`);
        writeFileSync(join(root, String(pid), 'cmdline'), 'server\0--port\0');
        writeFileSync(join(root, String(pid), 'status'), 'Name:\tserver\nUid:\t0\t0\t0\t0\n');
      }
    };
    proc(100, { '3': 'socket:[11892]', '4': 'socket:[11894]', '5': '/dev/null', '6': 'pipe:[77]' }); // 11892: [::1]:5003 LISTEN
    proc(101, { '3': 'socket:[11894]' }, false); // its stat vanished: it exited after the fd walk
    mkdirSync(join(root, '102')); // a pid directory whose fd directory is already gone
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps what it can read, and loses nothing to processes that vanish mid-read', () => {
    const src = new ProcfsSource({ procRoot: root, users, helperThreads: false });
    const { sockets, warnings } = src.listSync();
    expect(warnings).toEqual([]);
    expect(sockets.length).toBe(36);
    const listener = sockets.find((s) => s.localPort === 5003 && s.state === 'LISTEN');
    expect(listener).toMatchObject({
      pid: 100,
      pids: [100],
      process: { pid: 100, name: 'server', cmdline: ['server', '--port'], user: 'root', startTime: 1_700_000_005_000 },
    });
    const shared = sockets.find((s) => s.pids.includes(101));
    // 101 held the socket but its details are gone: it stays an owner; the living one is the primary
    expect(shared).toMatchObject({ pids: [100, 101], pid: 100 });
    // the rest have no visible holder here: as root that is "not found" (every descriptor was readable)
    const unowned = sockets.filter((s) => s.noOwner === 'not-found' || s.noOwner === 'hidden');
    expect(unowned.length).toBeGreaterThan(0);
    expect(unowned.every((s) => s.noOwner === (process.getuid?.() === 0 ? 'not-found' : 'hidden') || s.uid === process.getuid?.())).toBe(true);
  });

  it('reports garbage lines with where and why, keeps the good ones, and the monitor stays up', async () => {
    writeFileSync(
      join(root, 'net', 'udp'),
      '  sl  local_address rem_address   st\n   0: garbage\n   1: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 555 2 0 0\n\u0000\u0001\u0002\n',
    );
    const src = new ProcfsSource({ procRoot: root, users, helperThreads: false });
    const monitor = new Monitor({ source: src, intervalMs: 1000 });
    await monitor.pollOnce();
    const status = monitor.getStatus();
    expect(status?.state).toBe('ok');
    const warnings = status?.state === 'ok' ? status.warnings : [];
    expect(warnings).toEqual(['/proc/net/udp line 2: expected at least 10 fields, got 2', '/proc/net/udp line 4: expected at least 10 fields, got 1']);
    expect(monitor.getSnapshot()?.sockets.some((s) => s.protocol === 'udp' && s.localPort === 53 && s.localAddress === '127.0.0.1')).toBe(true);
    await monitor.stop();
  });

  it('a /proc it cannot read at all is a failing source: an error status, then recovery when it is back', async () => {
    const src = new ProcfsSource({ procRoot: root, users, helperThreads: false });
    const monitor = new Monitor({ source: src, intervalMs: 1000 });
    await monitor.pollOnce();
    const good = monitor.getSnapshot();
    rmSync(join(root, 'net', 'tcp'));
    await monitor.pollOnce();
    const st = monitor.getStatus();
    expect(st?.state).toBe('error');
    expect(st?.state === 'error' && st.message).toMatch(/cannot read .*net\/tcp/);
    expect(st?.state === 'error' && st.staleSince).toBe(good?.takenAt);
    expect(monitor.getSnapshot()?.sockets.length).toBe(good?.sockets.length);
    cpSync(join(FIXTURES, 'procfs', 'pwfx-b', 'tcp'), join(root, 'net', 'tcp'));
    await monitor.pollOnce();
    expect(monitor.getStatus()?.state).toBe('ok');
    await monitor.stop();
  });

  it('reparses only changed lines: unchanged sockets come back as the same objects, a TIME_WAIT twin gets its own id', () => {
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
    const line = (sl: number, st: string, inode: number, remPort = 'C350', uid = 1000): string =>
      `${String(sl).padStart(4)}: 0100007F:1F90 0100007F:${remPort} ${st} 00000000:00000000 00:00000000 00000000 ${String(uid).padStart(5)}        0 ${inode} 1 0000000000000000 20 4 30 10 -1`;
    const write = (...lines: string[]): void => writeFileSync(join(root, 'net', 'tcp'), [header, ...lines, ''].join('\n'));
    const src = new ProcfsSource({ procRoot: root, users, helperThreads: false });
    write(line(0, '0A', 900001, '0000'), line(1, '01', 900002), line(2, '01', 900003, 'C351'));
    const first = src.listSync().sockets.filter((s) => s.family === 4 && s.protocol === 'tcp');
    // the same sockets in other slots, one of them now owned by another uid; a TIME_WAIT with the tuple of a live one
    write(line(0, '01', 900003, 'C351', 0), line(1, '0A', 900001, '0000'), line(2, '01', 900002), line(3, '06', 0));
    const second = src.listSync().sockets.filter((s) => s.family === 4 && s.protocol === 'tcp');
    const byInodePort = (list: typeof first, port: number | null, state: string) => list.find((s) => s.remotePort === port && s.state === state);
    expect(byInodePort(second, null, 'LISTEN')).toBe(byInodePort(first, null, 'LISTEN'));
    expect(byInodePort(second, 0xc350, 'ESTABLISHED')).toBe(byInodePort(first, 0xc350, 'ESTABLISHED'));
    const changed = byInodePort(second, 0xc351, 'ESTABLISHED');
    expect(changed).not.toBe(byInodePort(first, 0xc351, 'ESTABLISHED'));
    expect(changed?.uid).toBe(0);
    const twins = second.filter((s) => s.remotePort === 0xc350);
    expect(twins.map((s) => s.state).sort()).toEqual(['ESTABLISHED', 'TIME_WAIT']);
    expect(new Set(twins.map((s) => s.id)).size).toBe(2);
    expect(new Set(second.map((s) => s.id)).size).toBe(second.length);
    // a socket one poll did not list is forgotten: back the poll after, it is a new object
    write(line(0, '0A', 900001, '0000'), line(1, '01', 900002));
    src.listSync();
    write(line(0, '0A', 900001, '0000'), line(1, '01', 900002), line(2, '01', 900003, 'C351', 0));
    const fourth = src.listSync().sockets.filter((s) => s.family === 4 && s.protocol === 'tcp');
    const back = byInodePort(fourth, 0xc351, 'ESTABLISHED');
    expect(back).toEqual(changed);
    expect(back).not.toBe(changed);
    expect(byInodePort(fourth, null, 'LISTEN')).toBe(byInodePort(first, null, 'LISTEN'));
  });

  it('steady polls read the tables on a helper thread: the same sockets as in-thread reads, bad lines found by number', async () => {
    // a table of many pages, so that it arrives in pieces, with a bad line far down
    const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
    const lines = Array.from(
      { length: 3000 },
      (_, i) =>
        `${String(i).padStart(4)}: 0100007F:${(10000 + i).toString(16).toUpperCase()} 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 ${800000 + i} 1 0000000000000000 20 4 30 10 -1`,
    );
    lines[2500] = ' 2500: this line is garbage';
    writeFileSync(join(root, 'net', 'tcp'), [header, ...lines, ''].join('\n'));
    const streamed = new ProcfsSource({ procRoot: root, users });
    const inThread = new ProcfsSource({ procRoot: root, users, helperThreads: false });
    try {
      await streamed.list(); // the cold poll (its walker thread reads the tables)
      for (let poll = 0; poll < 3; poll++) {
        const a = await streamed.list();
        expect(streamed.tablesFromHelper).toBe(4);
        const b = inThread.listSync();
        expect(a.warnings).toEqual(['/proc/net/tcp line 2502: expected at least 10 fields, got 5']);
        expect(a.warnings).toEqual(b.warnings);
        expect(a.sockets).toEqual(b.sockets);
        expect(a.sockets.filter((s) => s.protocol === 'tcp' && s.family === 4).length).toBe(2999);
      }
    } finally {
      streamed.close();
    }
  });
});
