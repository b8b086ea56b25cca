import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { killDescendantTree, parsePsRows, processRows, type ProcessRow } from '../../../src/main/engine/runCommand';
import { isRunning, waitFor } from '../../helpers/children';

/**
 * Killing a process that shares its group with us (a utility process) and everything it started, by parent
 * pid: the tree is frozen as it is found, so nothing in it can start a process that would escape.
 */
describe('killDescendantTree', () => {
  it('freezes the tree round by round until nothing new appears, then kills every process in it and nothing else', () => {
    // 10 -> 11 -> 12; 11 starts 13 while the first round freezes it; 20 is a stranger; 1 -> 10 is its parent
    const rounds: ProcessRow[][] = [
      [
        { pid: 1, ppid: 0 },
        { pid: 10, ppid: 1 },
        { pid: 11, ppid: 10 },
        { pid: 12, ppid: 11 },
        { pid: 20, ppid: 1 },
      ],
      [
        { pid: 1, ppid: 0 },
        { pid: 10, ppid: 1 },
        { pid: 11, ppid: 10 },
        { pid: 12, ppid: 11 },
        { pid: 13, ppid: 11 },
        { pid: 20, ppid: 1 },
      ],
    ];
    let round = 0;
    const signals: string[] = [];
    const killed = killDescendantTree(10, {
      platform: 'linux',
      rows: () => rounds[Math.min(round++, rounds.length - 1)] ?? [],
      signal: (pid, s) => signals.push(`${s} ${pid}`),
    });
    expect(killed.sort((a, b) => a - b)).toEqual([10, 11, 12, 13]);
    const kills = signals.filter((s) => s.startsWith('SIGKILL'));
    expect(signals.slice(0, signals.length - kills.length).every((s) => s.startsWith('SIGSTOP'))).toBe(true);
    expect(signals).toContain('SIGSTOP 13');
    expect(kills.sort()).toEqual(['SIGKILL 10', 'SIGKILL 11', 'SIGKILL 12', 'SIGKILL 13']);
  });

  it('never signals pid 0, 1 or a negative pid (a group, or everything); on Windows ends the tree with taskkill', () => {
    const signals: number[] = [];
    for (const pid of [0, 1, -5, 1.5]) expect(killDescendantTree(pid, { platform: 'linux', rows: () => [], signal: (p) => signals.push(p) })).toEqual([]);
    expect(signals).toEqual([]);
    const calls: Array<[string, string[]]> = [];
    killDescendantTree(4242, { platform: 'win32', run: (cmd, args) => calls.push([cmd, args]) });
    expect(calls).toEqual([['taskkill', ['/pid', '4242', '/T', '/F']]]);
  });

  it("reads ps's pid and ppid columns, and /proc on Linux", () => {
    expect(parsePsRows('    1     0\n  345     1\nbad line\n 9999  345\n')).toEqual([
      { pid: 1, ppid: 0 },
      { pid: 345, ppid: 1 },
      { pid: 9999, ppid: 345 },
    ]);
    expect(processRows('linux')).toContainEqual({ pid: process.pid, ppid: process.ppid });
  });

  it('a real tree in our own process group: the child and its grandchild die, we and a sibling live', async () => {
    const child = spawn('sh', ['-c', 'sleep 600 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const sibling = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const grandchild = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      const killed = killDescendantTree(child.pid as number);
      expect(killed).toEqual(expect.arrayContaining([child.pid, grandchild]));
      await waitFor(() => (isRunning(child.pid as number) || isRunning(grandchild) ? undefined : true), 5000, 'the tree gone');
      expect(isRunning(sibling.pid as number)).toBe(true);
    } finally {
      child.kill('SIGKILL');
      sibling.kill('SIGKILL');
    }
  });
});
