import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from '../../../src/shared/model';
import { runPortwatch } from '../../helpers/cli';
import type { Child } from '../../helpers/children';
import { HOSTILE_ESCAPED, HOSTILE_NAME, hostileListener, isRoot, TERMINAL_CONTROLS } from './hostileProcess';

const FORMULA_NAME = '=HYPERLINK("evil.example","y")';

describe.runIf(isRoot)("another user's process names, printed by root's portwatch", () => {
  let evil: Child & { port: number };
  let formula: Child & { port: number };
  let config: string;
  beforeAll(async () => {
    config = mkdtempSync(join(tmpdir(), 'pw-untrusted-'));
    [evil, formula] = await Promise.all([hostileListener(HOSTILE_NAME), hostileListener(FORMULA_NAME)]);
  });
  afterAll(async () => {
    await Promise.all([evil?.stop(), formula?.stop()]);
    rmSync(config, { recursive: true, force: true });
  });

  it('list: the name is escaped, never a fake row', async () => {
    const r = await runPortwatch(['list', '--pid', String(evil.pid)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.replace(/\n/g, '')).not.toMatch(TERMINAL_CONTROLS);
    expect(r.stdout).toMatch(
      new RegExp(`127\\.0\\.0\\.1:${evil.port} .*LISTEN +${evil.pid} +nobody +${HOSTILE_ESCAPED.replace(/[\\[$^.*+?()|{}]/g, '\\$&')}\n`),
    );
    expect(r.stdout.split('\n').filter((l) => l.includes('sshd'))).toHaveLength(1); // the escaped name's row, no other
  });

  it('audit: the same', async () => {
    const r = await runPortwatch(['audit'], { ...process.env, XDG_CONFIG_HOME: config });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.replace(/\n/g, '')).not.toMatch(TERMINAL_CONTROLS);
    expect(r.stdout).toContain(`${HOSTILE_ESCAPED} (${evil.pid})`);
  });

  it('list --json: the exact name, with nothing a terminal acts on', async () => {
    const r = await runPortwatch(['list', '--json', '--pid', String(evil.pid)]);
    expect(r.stdout.replace(/\n/g, '')).not.toMatch(TERMINAL_CONTROLS);
    const { sockets } = JSON.parse(r.stdout) as { sockets: Socket[] };
    expect(sockets.find((s) => s.localPort === evil.port)?.process?.name).toBe(HOSTILE_NAME);
  });

  it('list --csv: the name escaped, a formula made text', async () => {
    const r = await runPortwatch(['list', '--csv', '--listen', '--tcp']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.replace(/\r\n/g, '')).not.toMatch(TERMINAL_CONTROLS);
    const rowOf = (port: number): string | undefined => r.stdout.split('\r\n').find((l) => l.includes(`,127.0.0.1,${port},`));
    expect(rowOf(evil.port)).toContain(`,${HOSTILE_ESCAPED},`);
    const row = rowOf(formula.port);
    expect(row).toContain(`,"'=HYPERLINK(""evil.example"",""y"")",`);
    expect(row).not.toMatch(/,"?=/);
  });
});
