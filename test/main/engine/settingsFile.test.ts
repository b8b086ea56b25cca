import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultSettingsPath, loadSettings, writeSettings } from '../../../src/main/engine/settingsFile';
import { EngineApi } from '../../../src/main/api/engineApi';
import type { AlertSettings } from '../../../src/shared/api';
import { oneListenerMonitor } from '../../helpers/sockets';

/**
 * The settings that outlive a run (alert mutes, snooze, loopback, first contacts, Record history), in the
 * user's config directory, read and written with the baseline's distrust; and EngineApi keeping them across a
 * restart. Real files; the test runs as root, so another owner is nobody (65534).
 */

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-settings-'));
  chmodSync(dir, 0o700);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('settings.json', () => {
  it('lives beside the baseline; missing is the defaults; written 0600 and read back', () => {
    expect(defaultSettingsPath({ platform: 'linux', homedir: '/home/u', env: { XDG_CONFIG_HOME: '/x' } } as never)).toBe('/x/portwatch/settings.json');
    const path = join(dir, 'portwatch', 'settings.json');
    expect(loadSettings(path)).toEqual({ ok: true, settings: { version: 1 }, exists: false });
    writeSettings(path, { version: 1, alerts: { mutes: [{ port: 3000 }], snoozedUntil: 123 }, recordHistory: false });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'portwatch')).mode & 0o777).toBe(0o700);
    expect(loadSettings(path)).toEqual({
      ok: true,
      exists: true,
      settings: { version: 1, alerts: { mutes: [{ port: 3000 }], snoozedUntil: 123 }, recordHistory: false },
    });
  });

  it('refuses a link, a FIFO (without waiting), another user’s file, a group-writable one, and a link on the way; writes through none', () => {
    const target = join(dir, 'target.json');
    writeFileSync(target, JSON.stringify({ version: 1, recordHistory: false }), { mode: 0o600 });
    const link = join(dir, 'link.json');
    symlinkSync(target, link);
    expect(loadSettings(link)).toMatchObject({ ok: false, message: expect.stringMatching(/symbolic link/) });
    expect(() => writeSettings(link, { version: 1 })).toThrow(/symbolic link/);
    expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual({ version: 1, recordHistory: false });

    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(loadSettings(fifo)).toMatchObject({ ok: false, message: expect.stringMatching(/FIFO|not a regular file/) });

    const theirs = join(dir, 'theirs.json');
    writeFileSync(theirs, JSON.stringify({ version: 1 }), { mode: 0o644 });
    chownSync(theirs, 65534, 65534);
    expect(loadSettings(theirs)).toMatchObject({ ok: false, message: expect.stringMatching(/owned by uid 65534/) });

    const open = join(dir, 'open.json');
    writeFileSync(open, JSON.stringify({ version: 1 }));
    chmodSync(open, 0o664);
    expect(loadSettings(open)).toMatchObject({ ok: false, message: expect.stringMatching(/writable by group or others/) });

    mkdirSync(join(dir, 'real'), { mode: 0o700 });
    symlinkSync(join(dir, 'real'), join(dir, 'via'));
    expect(() => writeSettings(join(dir, 'via', 'settings.json'), { version: 1 })).toThrow(/symbolic link/);
    expect(() => readFileSync(join(dir, 'real', 'settings.json'))).toThrow(/ENOENT/);
  });

  it('a broken file says why without quoting it, and is never written over', () => {
    const path = join(dir, 'settings.json');
    const text = '{"version": 1, "alerts": {"mutes": [{"port": "\\u001b[31mevil"}]}}';
    writeFileSync(path, text, { mode: 0o600 });
    const r = loadSettings(path);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toMatch(/not Portwatch settings \(alerts\.mutes\.0/);
      expect(r.message).not.toContain('evil');
    }
    writeFileSync(join(dir, 'huge.json'), 'x'.repeat(70_000), { mode: 0o600 });
    expect(loadSettings(join(dir, 'huge.json'))).toMatchObject({ ok: false, message: expect.stringMatching(/larger than/) });
  });
});

describe('EngineApi keeps its settings across a restart', () => {
  it('mutes, snooze, loopback and first contacts come back; a refused file is left as it is and changes are not saved over it', async () => {
    const path = join(dir, 'portwatch', 'settings.json');
    const monitor = await oneListenerMonitor();
    try {
      const first = new EngineApi(monitor, { settingsPath: path });
      await first.call('muteAlerts', [{ port: 3000 }]);
      await first.call('muteAlerts', [{ process: 'python3 sneaky.py' }]);
      await first.call('setAlertsIncludeLoopback', [true]);
      await first.call('setFirstContact', [true, 48 * 3_600_000]);
      const snoozed = await first.call('snoozeAlerts', [3_600_000]);
      await first.close();
      const until = (snoozed as { ok: true; value: AlertSettings }).value.snoozedUntil;

      const second = new EngineApi(monitor, { settingsPath: path });
      expect(await second.call('getAlertSettings', [])).toEqual({
        ok: true,
        value: {
          includeLoopback: true,
          mutes: [{ port: 3000 }, { process: 'python3 sneaky.py' }],
          snoozedUntil: until,
          clearedThrough: 0,
          firstContact: true,
          learningMs: 48 * 3_600_000,
        },
      });
      await second.close();

      chmodSync(path, 0o666);
      const before = readFileSync(path);
      const errors: string[] = [];
      const third = new EngineApi(monitor, { settingsPath: path, onSettingsError: (m) => errors.push(m) });
      expect(errors.join('\n')).toMatch(/writable by group or others.*left as it is/);
      expect(await third.call('getAlertSettings', [])).toMatchObject({ ok: true, value: { mutes: [], includeLoopback: false } });
      await third.call('muteAlerts', [{ port: 22 }]);
      await third.close();
      expect(readFileSync(path).equals(before)).toBe(true);
    } finally {
      await monitor.stop();
    }
  });
});
