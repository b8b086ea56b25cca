import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultBaselinePath, loadBaseline, migrateBaseline, userBaselinePath, writeBaselineFile } from '../../../src/main/engine/baselineFile';
import { configDir, currentPlace, legacyConfigFiles, type ProcessFacts, type UserPlace } from '../../../src/main/engine/configDir';
import type { BaselineRule } from '../../../src/shared/baseline';

const isRoot = process.getuid?.() === 0;

describe('the baseline lives in the platform config directory', () => {
  const at = (
    platform: NodeJS.Platform,
    env: Record<string, string> = {},
    home = platform === 'win32' ? 'C:\\Users\\u' : platform === 'darwin' ? '/Users/u' : '/home/u',
  ): UserPlace => ({ platform, env, homedir: home });

  it('XDG on Linux and other Unixes, Application Support on macOS, %APPDATA% on Windows', () => {
    expect(defaultBaselinePath(at('linux'))).toBe('/home/u/.config/portwatch/baseline.json');
    expect(defaultBaselinePath(at('linux', { XDG_CONFIG_HOME: '/x/cfg' }))).toBe('/x/cfg/portwatch/baseline.json');
    expect(defaultBaselinePath(at('linux', { XDG_CONFIG_HOME: 'cfg' }))).toBe('/home/u/.config/portwatch/baseline.json'); // relative: ignored
    expect(defaultBaselinePath(at('linux', { XDG_CONFIG_HOME: '' }))).toBe('/home/u/.config/portwatch/baseline.json');
    expect(defaultBaselinePath(at('freebsd', { XDG_CONFIG_HOME: '/x/cfg' }))).toBe('/x/cfg/portwatch/baseline.json');
    expect(defaultBaselinePath(at('darwin'))).toBe('/Users/u/Library/Application Support/Portwatch/baseline.json');
    expect(defaultBaselinePath(at('darwin', { XDG_CONFIG_HOME: '/x/cfg' }))).toBe('/Users/u/Library/Application Support/Portwatch/baseline.json');
    expect(defaultBaselinePath(at('win32', { APPDATA: 'D:\\Roaming' }))).toBe('D:\\Roaming\\Portwatch\\baseline.json');
    expect(defaultBaselinePath(at('win32'))).toBe('C:\\Users\\u\\AppData\\Roaming\\Portwatch\\baseline.json');
    expect(defaultBaselinePath(at('win32', { APPDATA: 'Roaming' }))).toBe('C:\\Users\\u\\AppData\\Roaming\\Portwatch\\baseline.json');
    expect(configDir(at('darwin'))).toBe('/Users/u/Library/Application Support/Portwatch');
  });

  it('the old places: the CLI used ~/.config/portwatch on every OS, the app its Electron userData (none is new on Linux)', () => {
    expect(legacyConfigFiles(at('linux'), 'baseline.json')).toEqual([]);
    expect(legacyConfigFiles(at('linux', { XDG_CONFIG_HOME: '/x/cfg' }), 'baseline.json')).toEqual([]);
    expect(legacyConfigFiles(at('darwin'), 'baseline.json')).toEqual([
      '/Users/u/.config/portwatch/baseline.json',
      '/Users/u/Library/Application Support/portwatch/baseline.json',
    ]);
    expect(legacyConfigFiles(at('darwin', { XDG_CONFIG_HOME: '/x/cfg' }), 'baseline.json')).toEqual([
      '/x/cfg/portwatch/baseline.json',
      '/Users/u/Library/Application Support/portwatch/baseline.json',
    ]);
    expect(legacyConfigFiles(at('win32', { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }), 'baseline.json')).toEqual([
      'C:\\Users\\u\\.config\\portwatch\\baseline.json',
      'C:\\Users\\u\\AppData\\Roaming\\portwatch\\baseline.json',
    ]);
  });

  it("through sudo, the effective user's own directory from the passwd entry, never the invoking user's", () => {
    const facts = (euid: number | undefined, env: Record<string, string>): ProcessFacts => ({
      platform: 'linux',
      env,
      euid,
      homedir: () => env.HOME ?? '/nohome',
      passwdHome: () => (euid === 0 ? '/root' : '/home/bob'),
    });
    const alice = { HOME: '/home/alice', XDG_CONFIG_HOME: '/home/alice/.config', SUDO_USER: 'alice', SUDO_UID: '1000' };
    expect(defaultBaselinePath(currentPlace(facts(0, alice)))).toBe('/root/.config/portwatch/baseline.json');
    expect(defaultBaselinePath(currentPlace(facts(1001, alice)))).toBe('/home/bob/.config/portwatch/baseline.json'); // sudo -u bob
    // not through sudo, or sudo from root itself: the environment's, as for everyone
    expect(defaultBaselinePath(currentPlace(facts(1000, alice)))).toBe('/home/alice/.config/portwatch/baseline.json');
    expect(defaultBaselinePath(currentPlace(facts(0, { HOME: '/srv/ci', XDG_CONFIG_HOME: '/srv/ci/cfg', SUDO_UID: '0' })))).toBe(
      '/srv/ci/cfg/portwatch/baseline.json',
    );
    expect(defaultBaselinePath(currentPlace(facts(0, { HOME: '/srv/ci' })))).toBe('/srv/ci/.config/portwatch/baseline.json');
    // no passwd entry: what is left
    expect(
      currentPlace({
        ...facts(0, alice),
        passwdHome: () => {
          throw new Error('ENOENT');
        },
      }).homedir,
    ).toBe('/home/alice');
    // this process, not through sudo here
    if (process.env.SUDO_UID === undefined) expect(currentPlace()).toEqual({ platform: process.platform, env: process.env, homedir: homedir() });
  });
});

describe('migrating the old baselines, once', () => {
  let home: string;
  /** macOS laid out under a temporary home (a case-sensitive file system: the two old places differ from the new one). */
  let mac: UserPlace;
  let newPath: string;
  let oldCli: string;
  let oldApp: string;
  let log: string[];
  const note = (line: string): void => void log.push(line);
  const rules = (p: string): BaselineRule[] => {
    const r = loadBaseline(p);
    if (!r.ok) throw new Error(r.message);
    return r.baseline.rules;
  };
  const put = (p: string, text: string): void => {
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  };
  const baseline = (...rs: BaselineRule[]): string => JSON.stringify({ version: 1, rules: rs });

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'pw-migrate-'));
    mac = { platform: 'darwin', env: {}, homedir: home };
    newPath = join(home, 'Library', 'Application Support', 'Portwatch', 'baseline.json');
    oldCli = join(home, '.config', 'portwatch', 'baseline.json');
    oldApp = join(home, 'Library', 'Application Support', 'portwatch', 'baseline.json');
    log = [];
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('from the old CLI place (macOS): its rules in the new file, the old one left as it was, one line said', () => {
    const text = baseline({ port: 22, protocol: 'tcp' }, { process: 'cupsd', note: 'printing' });
    put(oldCli, text);
    expect(userBaselinePath(note, { place: mac })).toBe(newPath);
    expect(rules(newPath)).toEqual([
      { port: 22, protocol: 'tcp' },
      { process: 'cupsd', note: 'printing' },
    ]);
    expect(readFileSync(oldCli, 'utf8')).toBe(text);
    expect(log).toEqual([`merged the old baseline ${oldCli} into ${newPath} (2 of 2 rules new); the old file is left in place and no longer read`]);
    expect(readFileSync(`${newPath}.migrated`, 'utf8')).toContain(oldCli);
  });

  it("from the old app's userData (macOS), and from both at once without repeats (the first one's note kept)", () => {
    put(oldApp, baseline({ port: 631 }));
    expect(userBaselinePath(note, { place: mac })).toBe(newPath);
    expect(rules(newPath)).toEqual([{ port: 631 }]);
    expect(log).toEqual([
      expect.stringMatching(
        /^merged the old baseline .*Application Support\/portwatch\/baseline\.json into .*Application Support\/Portwatch\/baseline\.json \(1 of 1 rule new\)/,
      ),
    ]);

    rmSync(dirname(newPath), { recursive: true });
    log = [];
    put(oldCli, baseline({ port: 22, note: 'cli' }, { port: 53, protocol: 'udp' }));
    put(oldApp, baseline({ port: 53, protocol: 'udp', note: 'app' }, { port: 22, note: 'app' }, { port: 631 }));
    userBaselinePath(note, { place: mac });
    expect(rules(newPath)).toEqual([{ port: 22, note: 'cli' }, { port: 53, protocol: 'udp' }, { port: 631 }]);
    expect(log).toEqual([
      expect.stringContaining(`${oldCli} into ${newPath} (2 of 2 rules new)`),
      expect.stringContaining(`${oldApp} into ${newPath} (1 of 3 rules new)`),
    ]);
  });

  it("from the app's own userData file on Linux (what app.getPath('userData') said), which the app passes", () => {
    const linux: UserPlace = { platform: 'linux', env: { XDG_CONFIG_HOME: join(home, 'cfg') }, homedir: home };
    const userData = join(home, 'cfg', 'Portwatch', 'baseline.json');
    put(userData, baseline({ port: 8080 }));
    const path = userBaselinePath(note, { place: linux, legacy: [userData] });
    expect(path).toBe(join(home, 'cfg', 'portwatch', 'baseline.json'));
    expect(rules(path)).toEqual([{ port: 8080 }]);
    expect(log).toHaveLength(1);
    // the app's userData being the new directory itself (package.json's name is portwatch): nothing to merge
    const same = mkdtempSync(join(tmpdir(), 'pw-migrate-same-'));
    try {
      const place: UserPlace = { platform: 'linux', env: { XDG_CONFIG_HOME: same }, homedir: home };
      writeBaselineFile(defaultBaselinePath(place), { version: 1, rules: [{ port: 1 }] });
      log = [];
      expect(migrateBaseline(defaultBaselinePath(place), [join(same, 'portwatch', 'baseline.json')], note)).toEqual({ result: 'nothing', refused: [] });
      expect(log).toEqual([]);
      expect(existsSync(`${defaultBaselinePath(place)}.migrated`)).toBe(false);
    } finally {
      rmSync(same, { recursive: true, force: true });
    }
  });

  it('only once: later changes to the old file, and rules deleted from the new one, stay as they are', () => {
    put(oldCli, baseline({ port: 22 }, { port: 23 }));
    userBaselinePath(note, { place: mac });
    writeBaselineFile(newPath, { version: 1, rules: [{ port: 22 }] }); // the user deleted telnet
    put(oldCli, baseline({ port: 22 }, { port: 23 }, { port: 9999 })); // an old version ran again
    log = [];
    expect(migrateBaseline(newPath, legacyConfigFiles(mac, 'baseline.json'), note)).toEqual({ result: 'done-before' });
    expect(userBaselinePath(note, { place: mac })).toBe(newPath);
    expect(rules(newPath)).toEqual([{ port: 22 }]);
    expect(log).toEqual([]);
    // the marker says how to merge again: delete it
    rmSync(`${newPath}.migrated`);
    userBaselinePath(note, { place: mac });
    expect(rules(newPath)).toEqual([{ port: 22 }, { port: 23 }, { port: 9999 }]);
  });

  it('into a new file that exists already: its rules first, nothing repeated, nothing rewritten when nothing is new', () => {
    writeBaselineFile(newPath, { version: 1, rules: [{ port: 443, note: 'new' }] });
    put(oldCli, baseline({ port: 443, note: 'old' }, { port: 80 }));
    userBaselinePath(note, { place: mac });
    expect(rules(newPath)).toEqual([{ port: 443, note: 'new' }, { port: 80 }]);
    expect(log).toEqual([expect.stringContaining('(1 of 2 rules new)')]);
  });

  it('no old file: nothing written, nothing said, and no marker (an empty baseline is still "none yet")', () => {
    expect(userBaselinePath(note, { place: mac })).toBe(newPath);
    expect(existsSync(dirname(newPath))).toBe(false);
    expect(log).toEqual([]);
  });

  it('a bad old file is reported, kept byte for byte, never merged; once fixed it is merged', () => {
    const secret = join(home, 'secret');
    writeFileSync(secret, baseline({ port: 1 }));
    const cases: Array<[string, (p: string) => void, RegExp]> = [
      ['broken JSON', (p) => put(p, '{ "version": 1, "rules": ['), /is not valid JSON/],
      ['not a baseline', (p) => put(p, baseline({ port: 'ssh' } as unknown as BaselineRule)), /is not a Portwatch baseline/],
      ['a symbolic link', (p) => (mkdirSync(dirname(p), { recursive: true }), symlinkSync(secret, p)), /is a symbolic link/],
      ['writable by others', (p) => (put(p, baseline({ port: 2 })), chmodSync(p, 0o666)), /writable by group or others/],
      ['a FIFO', (p) => (mkdirSync(dirname(p), { recursive: true }), expect(spawnSync('mkfifo', [p]).status).toBe(0)), /is a FIFO, not a regular file/],
      ['over 1 MiB', (p) => put(p, baseline({ port: 3 }).padEnd((1 << 20) + 1)), /larger than 1 MiB/],
    ];
    for (const [what, make, why] of cases) {
      rmSync(join(home, '.config'), { recursive: true, force: true });
      make(oldCli);
      const before = what === 'a FIFO' ? null : readFileSync(oldCli);
      log = [];
      expect(migrateBaseline(newPath, [oldCli], note), what).toEqual({ result: 'nothing', refused: [oldCli] });
      expect(log, what).toEqual([
        expect.stringMatching(
          new RegExp(
            `^did not merge an old baseline: .*${why.source}.*; it is left as it is: once fixed, copy its rules into ${newPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`,
          ),
        ),
      ]);
      if (before) expect(readFileSync(oldCli), what).toEqual(before);
      expect(existsSync(newPath), what).toBe(false);
      expect(existsSync(`${newPath}.migrated`), what).toBe(false);
    }
    expect(readFileSync(secret, 'utf8')).toBe(baseline({ port: 1 }));
    // told again next time, until fixed; then merged
    rmSync(oldCli);
    put(oldCli, baseline({ port: 4 }));
    log = [];
    expect(migrateBaseline(newPath, [oldCli], note)).toEqual({ result: 'merged', merged: [oldCli], refused: [] });
    expect(rules(newPath)).toEqual([{ port: 4 }]);
  });

  it('a bad old file beside a good one: the good one is merged, the bad one reported and kept', () => {
    put(oldCli, '{ nope');
    put(oldApp, baseline({ port: 5353, protocol: 'udp' }));
    const r = migrateBaseline(newPath, legacyConfigFiles(mac, 'baseline.json'), note);
    expect(r).toEqual({ result: 'merged', merged: [oldApp], refused: [oldCli] });
    expect(rules(newPath)).toEqual([{ port: 5353, protocol: 'udp' }]);
    expect(readFileSync(oldCli, 'utf8')).toBe('{ nope');
    expect(log).toEqual([expect.stringMatching(/^did not merge an old baseline: .*not valid JSON/), expect.stringMatching(/^merged the old baseline /)]);
  });

  it('a broken new file, or a config directory it must not write into: nothing merged, every file kept, tried again', () => {
    put(oldCli, baseline({ port: 22 }));
    put(newPath, '{ "version": 1, "rules": [ { "port": 1 } ');
    expect(migrateBaseline(newPath, [oldCli], note)).toEqual({ result: 'nothing', refused: [] });
    expect(readFileSync(newPath, 'utf8')).toBe('{ "version": 1, "rules": [ { "port": 1 } ');
    expect(log).toEqual([expect.stringMatching(new RegExp(`^did not merge the old baseline ${oldCli}: .*is not valid JSON.*; every file is left as it is$`))]);

    rmSync(dirname(newPath), { recursive: true });
    const elsewhere = join(home, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, dirname(newPath));
    log = [];
    expect(migrateBaseline(newPath, [oldCli], note)).toEqual({ result: 'nothing', refused: [] });
    expect(log).toEqual([expect.stringMatching(/^did not merge the old baseline .*: cannot write .*is a symbolic link.*; every file is left as it is$/)]);
    expect(existsSync(join(elsewhere, 'baseline.json'))).toBe(false);
    expect(rules(oldCli)).toEqual([{ port: 22 }]);
  });

  it.runIf(isRoot)("an old file of another user's is refused: they would decide what root's audit expects", () => {
    put(oldCli, baseline({ port: 22 }));
    chownSync(oldCli, 65534, 65534);
    expect(migrateBaseline(newPath, [oldCli], note)).toEqual({ result: 'nothing', refused: [oldCli] });
    expect(log).toEqual([expect.stringMatching(/owned by uid 65534, not by you/)]);
    expect(existsSync(newPath)).toBe(false);
  });
});
