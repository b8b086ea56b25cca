import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPortwatch } from '../../helpers/cli';

/** The history's files as a user could find them, through bin/portwatch: a clear error, nothing written or lost. */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-history-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('portwatch record / history: hostile and missing files', () => {
  it("record refuses a database that is a symbolic link into someone else's directory, and writes nothing there", async () => {
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs);
    writeFileSync(join(theirs, 'notes'), 'keep me');
    symlinkSync(join(theirs, 'notes'), join(dir, 'h.db'));
    const r = await runPortwatch(['record', '--db', join(dir, 'h.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^portwatch record: cannot use the history .*h\.db: .*h\.db is a symbolic link; Portwatch never writes its history through a link/m,
    );
    expect(readFileSync(join(theirs, 'notes'), 'utf8')).toBe('keep me');
  });

  it('record and history refuse a FIFO without blocking', async () => {
    execFileSync('mkfifo', [join(dir, 'h.db')]);
    for (const command of ['record', 'history']) {
      const r = await runPortwatch([command, '--db', join(dir, 'h.db')]);
      expect(r.code, command).toBe(1);
      expect(r.stderr, command).toMatch(/h\.db is a FIFO, not a regular file/);
    }
  });

  it('history reports a corrupt database and leaves it byte for byte; a missing one says who writes it', async () => {
    const junk = Buffer.from('SQLite format 2 but not really\n'.repeat(50));
    writeFileSync(join(dir, 'h.db'), junk);
    const r = await runPortwatch(['history', '--db', join(dir, 'h.db')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/h\.db is not a readable history database \(corrupt, or not SQLite\); it is left as it is/);
    expect(readFileSync(join(dir, 'h.db')).equals(junk)).toBe(true);
    const missing = await runPortwatch(['history', '--db', join(dir, 'none.db')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/there is no history at .*none\.db yet: portwatch record writes it/);
  });

  it('bad --since, --until and --filter are usage errors (exit 2) before any file is read', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--since', 'yesterday'], /--since: 'yesterday' is not a time/],
      [['--until', '2026-02-30T10:00'], /--until: '2026-02-30T10:00' is not a time/],
      [['--since', '1h', '--until', '2h'], /--since is after --until/],
      [['--filter', 'pid:1'], /--filter: the history keeps no pid per flow/],
      [['--filter', 'port:99999'], /--filter: port: "99999" is not a port/],
      [['--json', '--csv'], /choose one of --json and --csv/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runPortwatch(['history', '--db', join(dir, 'nothing-here', 'h.db'), ...args])));
    runs.forEach((r, i) => {
      const [args, message] = cases[i] as [string[], RegExp];
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr).toMatch(/Run 'portwatch history --help' for usage/);
      expect(r.stdout).toBe('');
    });
  });
});
