import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inert } from '../../../src/shared/inert';
import { processSummary } from '../../../src/shared/processSummary';
import { runPortwatch } from '../../helpers/cli';
import { isRunning, NODE_LISTENER, type Child } from '../../helpers/children';
import { BIN } from '../../helpers/paths';
import { FAKE_ROW, HOSTILE_ESCAPED, HOSTILE_NAME, hostileListener, isRoot, TERMINAL_CONTROLS } from './hostileProcess';

/** script(1), from util-linux, gives the CLI a terminal of its own. */
const hasScript = spawnSync('script', ['--version']).status === 0;

/** The hostile process as the prompt names it: its summary (`NAME -e`, cut to its length), made inert. */
const SHOWN = inert(processSummary({ name: HOSTILE_NAME, exe: process.execPath, cmdline: [HOSTILE_NAME, '-e', NODE_LISTENER] }));

describe.runIf(isRoot)("kill: another user's process name in root's prompt", () => {
  let evil: Child & { port: number };
  beforeAll(async () => {
    evil = await hostileListener(HOSTILE_NAME);
  });
  afterAll(async () => {
    await evil?.stop();
  });

  it.runIf(hasScript)('the question asked in a terminal shows the name escaped', () => {
    // a real terminal (script(1) gives the CLI a pty); the answer is no
    const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} kill ${evil.pid}`, '/dev/null'], { input: 'n\n', encoding: 'utf8', timeout: 30_000 });
    expect(SHOWN.startsWith(HOSTILE_ESCAPED.slice(0, 30))).toBe(true);
    expect(r.stdout).toContain(`Kill ${SHOWN} (pid ${evil.pid}, user nobody)? [y/N]`);
    expect(r.stdout).toContain(`listens on:   tcp 127.0.0.1:${evil.port}`);
    // the whole command line, escaped
    expect(r.stdout).toContain(`command line: ${HOSTILE_ESCAPED} -e`);
    expect(r.stdout).not.toContain(FAKE_ROW.slice(0, 5)); // readline moves the cursor itself; the name's ESC[2K never arrives
    expect(r.stdout).not.toMatch(/[\u202e\x9b]/);
    expect(isRunning(evil.pid)).toBe(true);
  });

  it('without a terminal, the refusal names it escaped; with --yes, so does the outcome', async () => {
    const no = await runPortwatch(['kill', String(evil.pid)]);
    expect(no.code).toBe(1);
    expect(no.stderr.replace(/\n/g, '')).not.toMatch(TERMINAL_CONTROLS);
    expect(no.stderr).toContain(`not confirmed: ${SHOWN} (pid ${evil.pid}, user nobody)`);

    const yes = await runPortwatch(['kill', String(evil.pid), '--yes']);
    expect(yes.code, yes.stderr).toBe(0);
    expect((yes.stdout + yes.stderr).replace(/\n/g, '')).not.toMatch(TERMINAL_CONTROLS);
    expect(yes.stdout).toContain(`${SHOWN} (pid ${evil.pid})`);
  });
});
