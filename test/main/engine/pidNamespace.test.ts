import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inNestedPidNamespace } from '../../../src/main/engine/owners';

const INIT_NS = 'pid:[4026531836]';
const CHILD_NS = 'pid:[4026532179]';
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true']).status === 0;

describe('inNestedPidNamespace', () => {
  const root = mkdtempSync(join(tmpdir(), 'pw-pidns-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A proc root whose self/status is `status` and whose self/ns/pid reads `ns` (null: none). */
  function procWith(name: string, status: string | null, ns: string | null = INIT_NS): string {
    const proc = join(root, name);
    mkdirSync(join(proc, 'self', 'ns'), { recursive: true });
    if (status !== null) writeFileSync(join(proc, 'self', 'status'), status);
    // as in procfs, a link whose target is only a name
    if (ns !== null) symlinkSync(ns, join(proc, 'self', 'ns', 'pid'));
    return proc;
  }
  const status = (nspid: string | null): string =>
    `Name:\tportwatch\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t1\n${nspid === null ? '' : `NSpid:${nspid}\n`}Uid:\t0\t0\t0\t0\n`;

  it('is true when NSpid lists a pid in more than one namespace (an outer namespace’s /proc)', () => {
    expect(inNestedPidNamespace(procWith('container', status('\t4242\t17'), null))).toBe(true);
    expect(inNestedPidNamespace(procWith('nested', status('\t4242\t900\t1'), null))).toBe(true);
  });

  it('is true when ns/pid is not the initial namespace (a container with a /proc of its own)', () => {
    expect(inNestedPidNamespace(procWith('own-proc', status('\t1'), CHILD_NS))).toBe(true);
    expect(inNestedPidNamespace(procWith('old-own-proc', status(null), CHILD_NS))).toBe(true);
  });

  it('is false in the initial namespace, and when it cannot tell', () => {
    expect(inNestedPidNamespace(procWith('host', status('\t4242')))).toBe(false);
    // before Linux 4.1 there is no NSpid line
    expect(inNestedPidNamespace(procWith('old', status(null)))).toBe(false);
    expect(inNestedPidNamespace(procWith('empty', null, null))).toBe(false);
    expect(inNestedPidNamespace(procWith('garbled', status('\t4242'), 'pid:[x]'))).toBe(false);
    expect(inNestedPidNamespace(join(root, 'nowhere'))).toBe(false);
  });

  it('is false for this test process, which runs in the initial pid namespace here', () => {
    expect(readlinkSync('/proc/self/ns/pid')).toBe(INIT_NS);
    expect(inNestedPidNamespace()).toBe(false);
  });

  it.runIf(canUnshare)('is true for what a process in a child pid namespace with its own /proc reads', () => {
    const out = execFileSync('unshare', ['-p', '-f', '--mount-proc', 'sh', '-c', 'cat /proc/self/status; echo ---; readlink /proc/self/ns/pid'], {
      encoding: 'utf8',
    });
    const [selfStatus, ns] = out.split('---\n') as [string, string];
    // NSpid alone cannot tell there: it lists pids from the proc mount's namespace down
    expect(selfStatus).toMatch(/^NSpid:\s+\d+$/m);
    expect(inNestedPidNamespace(procWith('unshared', selfStatus, ns.trim()))).toBe(true);
  });
});
