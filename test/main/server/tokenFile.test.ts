import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTokenFile } from '../../../src/main/server';

describe('serve --token-file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-token-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a missing file 0600 with a new token, then reads the same token back', () => {
    const path = join(dir, 'token');
    const made = loadTokenFile(path);
    expect(made).toMatchObject({ ok: true, created: true });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const token = (made as { token: string }).token;
    expect(readFileSync(path, 'utf8').trim()).toBe(token);
    expect(loadTokenFile(path)).toEqual({ ok: true, token, created: false });
  });

  it('refuses a file group or others may read, a symbolic link, a directory, a fifo-less junk file', () => {
    const open = join(dir, 'open');
    writeFileSync(open, `${'a'.repeat(32)}\n`, { mode: 0o600 });
    chmodSync(open, 0o640);
    expect(loadTokenFile(open)).toMatchObject({ ok: false, message: expect.stringMatching(/open to group or others \(mode 640\)/) });
    chmodSync(open, 0o604);
    expect(loadTokenFile(open)).toMatchObject({ ok: false, message: expect.stringMatching(/open to group or others/) });
    chmodSync(open, 0o600);
    expect(loadTokenFile(open)).toMatchObject({ ok: true, token: 'a'.repeat(32) });
    const link = join(dir, 'link');
    symlinkSync(open, link);
    expect(loadTokenFile(link)).toMatchObject({ ok: false, message: expect.stringMatching(/symbolic link/) });
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'nowhere'), dangling);
    expect(loadTokenFile(dangling)).toMatchObject({ ok: false, message: expect.stringMatching(/symbolic link/) });
    const sub = join(dir, 'sub');
    mkdirSync(sub, { mode: 0o700 });
    expect(loadTokenFile(sub)).toMatchObject({ ok: false, message: expect.stringMatching(/not a regular file/) });
    const junk = join(dir, 'junk');
    writeFileSync(junk, 'short\n', { mode: 0o600 });
    expect(loadTokenFile(junk)).toMatchObject({ ok: false, message: expect.stringMatching(/does not hold a token/) });
    expect(loadTokenFile(join(dir, 'missing-dir', 'token'))).toMatchObject({ ok: false, message: expect.stringMatching(/cannot create/) });
  });
});
