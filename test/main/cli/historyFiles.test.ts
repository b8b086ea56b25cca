import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPortwatch } from '../../helpers/cli';
import { waitFor } from '../../helpers/children';
import { BIN } from '../../helpers/paths';

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
    const noDir = await runPortwatch(['history', '--db', join(dir, 'never', 'recorded', 'h.db')]);
    expect(noDir.code).toBe(1);
    expect(noDir.stderr).toMatch(/there is no history at .*never\/recorded\/h\.db yet: portwatch record writes it/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/there is no history at .*none\.db yet: portwatch record writes it/);
  });

  it('record moves a corrupt database aside with a message, byte for byte, records into a new one, and stops on SIGTERM with exit 0', async () => {
    const junk = Buffer.from('not SQLite at all\n'.repeat(100));
    const db = join(dir, 'h.db');
    writeFileSync(db, junk);
    const rec = spawn(process.execPath, [BIN, 'record', '--db', db, '--interval', '250'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    rec.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => rec.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => (/recording to /.test(err) ? true : undefined), 15_000, 'the recorder to start');
    } finally {
      rec.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(err).toMatch(/h\.db was not a readable history database \(corrupt, or not SQLite\): moved it aside to .*h\.db\.corrupt-\S+ and started a new one/);
    const aside = readdirSync(dir).filter((f) => f.startsWith('h.db.corrupt-') && !f.endsWith('-wal') && !f.endsWith('-shm'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0] as string)).equals(junk)).toBe(true);
    const read = await runPortwatch(['history', '--db', db, '--listeners', '--json']);
    expect(read.code).toBe(0);
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
