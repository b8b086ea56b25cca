import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPortwatch } from '../../helpers/cli';
import { BIN } from '../../helpers/paths';
import { BaselineStore, defaultBaselinePath, jsonErrorOffset, loadBaseline, writeBaselineFile } from '../../../src/main/engine/baselineFile';

const isRoot = process.getuid?.() === 0;

describe('baseline file', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-baseline-'));
    path = join(dir, 'sub', 'baseline.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips, readable by a person, and a missing file is an empty baseline', () => {
    expect(loadBaseline(path)).toEqual({ ok: true, baseline: { version: 1, rules: [] }, exists: false });
    const rules = [{ process: 'sshd', protocol: 'tcp' as const, port: 22, exposure: 'all' as const, note: 'remote login' }];
    writeBaselineFile(path, { version: 1, rules });
    expect(loadBaseline(path)).toEqual({ ok: true, baseline: { version: 1, rules }, exists: true });
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('\n    {\n      "process": "sshd"');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['baseline.json']); // no temporary file left
  });

  it('takes a hand-edited file', () => {
    writeBaselineFile(path, { version: 1, rules: [] });
    writeFileSync(path, '{ "version": 1, "rules": [ { "port": 53, "protocol": "udp" },\n { "process": "cupsd", "exposure": "loopback" } ] }');
    const r = loadBaseline(path);
    expect(r).toMatchObject({
      ok: true,
      baseline: {
        rules: [
          { port: 53, protocol: 'udp' },
          { process: 'cupsd', exposure: 'loopback' },
        ],
      },
    });
  });

  it('reports a broken file with what is wrong, and never overwrites it', () => {
    writeBaselineFile(path, { version: 1, rules: [] });
    for (const [text, why] of [
      ['{ "version": 1, "rules": [ ', /not valid JSON/],
      ['{ "version": 3, "rules": [] }', /not a Portwatch baseline/],
      ['{ "version": 1, "rules": [ { "port": 70000 } ] }', /not a Portwatch baseline.*port/],
      ['{ "version": 1, "rules": [ { "prot": 22 } ] }', /not a Portwatch baseline/],
      ['[]', /not a Portwatch baseline/],
    ] as const) {
      writeFileSync(path, text);
      const r = loadBaseline(path);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.message).toMatch(why);
      const store = new BaselineStore(path);
      expect(store.current().ok).toBe(false);
      expect(() => store.add([{ port: 1 }])).toThrow(/fix or remove the file, it is kept as it is/);
      expect(readFileSync(path, 'utf8')).toBe(text);
    }
  });

  it('adds rules without repeats, keeping edits made meanwhile', () => {
    const store = new BaselineStore(path);
    store.add([{ port: 22 }]);
    writeFileSync(path, JSON.stringify({ version: 1, rules: [{ port: 22 }, { port: 631, note: 'added by hand' }] }));
    store.add([{ port: 22 }, { port: 80 }]);
    expect(store.rules()).toEqual([{ port: 22 }, { port: 631, note: 'added by hand' }, { port: 80 }]);
    expect(loadBaseline(path)).toMatchObject({ ok: true, baseline: { rules: store.rules() } });
  });

  it('concurrent writers in other processes never leave a torn or invalid file', async () => {
    writeBaselineFile(path, { version: 1, rules: [] });
    // six processes write the baseline at once (portwatch audit --write-baseline), three times each,
    // while this one keeps reading it
    const runs = Array.from(
      { length: 6 },
      () =>
        new Promise<number>((resolve) => {
          let left = 3;
          const again = (): void => {
            const p = spawn(process.execPath, [BIN, 'audit', '--write-baseline', path], { stdio: 'ignore' });
            p.on('exit', (code) => (code !== 0 || --left === 0 ? resolve(code ?? 1) : again()));
          };
          again();
        }),
    );
    let reads = 0;
    let done = false;
    const all = Promise.all(runs).then((codes) => ((done = true), codes));
    while (!done) {
      const r = loadBaseline(path);
      expect(r.ok, r.ok ? '' : r.message).toBe(true);
      reads++;
      await new Promise((r) => setImmediate(r));
    }
    expect(await all).toEqual([0, 0, 0, 0, 0, 0]);
    expect(reads).toBeGreaterThan(10);
    expect(loadBaseline(path).ok).toBe(true);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['baseline.json']);
  });

  it('lives in the XDG config directory on Linux (every OS: baselineMigration.test.ts)', () => {
    const linux = (env: Record<string, string>) => defaultBaselinePath({ platform: 'linux', env, homedir: '/home/u' });
    expect(linux({ XDG_CONFIG_HOME: '/x/cfg' })).toBe('/x/cfg/portwatch/baseline.json');
    expect(linux({ XDG_CONFIG_HOME: 'relative' })).toBe('/home/u/.config/portwatch/baseline.json');
  });
});

/** What a hostile or careless file must never make Portwatch do: trust it, block on it, or quote it. */
describe('baseline file: refuses what it must not trust', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-baseline-'));
    path = join(dir, 'baseline.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const refused = (p = path): string => {
    const r = loadBaseline(p);
    expect(r.ok, JSON.stringify(r)).toBe(false);
    return r.ok ? '' : r.message;
  };

  it('an empty rule, which would expect every listener, is refused by its index', () => {
    for (const rule of ['{}', '{ "note": "everything" }']) {
      writeFileSync(path, `{ "version": 1, "rules": [ { "port": 22 }, ${rule} ] }`);
      expect(refused()).toMatch(/rules\[1\].*sets no field to match/);
    }
    expect(() => writeBaselineFile(path, { version: 1, rules: [{ port: 22 }, { note: 'x' }] })).toThrow(/rules\[1\].*sets no field to match/);
  });

  it('never quotes the file in an error: JSON errors say where, schema errors say which field', () => {
    const SECRET = 'hunter2SECRETk3y';
    for (const [text, where] of [
      [`root:$6$${SECRET}:19000:0:99999:7:::\n`, /not valid JSON \(line 1, column 1\)$/],
      [`{ "version": 1,\n  "rules": [ ${SECRET} ] }`, /not valid JSON \(line 2, column 14\)$/],
      [`{ "version": 1, "rules": [ "${SECRET}\n" ] }`, /not valid JSON \(line 1, column 28\)$/],
      [`{ "version": 1, "rules": [ { "port": 1 }, ] }`, /not valid JSON \(line 1, column 43\)$/],
      [`{ "version": 1, "rules": [ { "port": 1 }`, /not valid JSON \(line 1, column 41: it ends too soon\)$/],
      [
        `{ "version": 1, "rules": [ { "${SECRET}": 1 } ] }`,
        /rules\[0\] has a field Portwatch does not know \(allowed: process, exe, protocol, port, ports, exposure, note\)/,
      ],
      [`{ "version": 1, "${SECRET}": 1, "rules": [] }`, /the file has a field Portwatch does not know \(allowed: version, rules\)/],
      [`{ "version": 1, "rules": [ { "process": 7, "port": "${SECRET}" } ] }`, /rules\[0\]\.process: .*expected string.*rules\[0\]\.port: .*expected number/],
      [`{ "version": "${SECRET}", "rules": [] }`, /version: /],
    ] as const) {
      writeFileSync(path, text);
      const message = refused();
      expect(message, text).not.toContain(SECRET);
      expect(message, text).not.toContain('hunter2');
      expect(message, text).toMatch(where);
      const store = new BaselineStore(path);
      expect(store.current()).toMatchObject({ ok: false, message }); // what the API sends
      expect(() => store.add([{ port: 1 }])).toThrow(/kept as it is/);
      try {
        store.add([{ port: 1 }]);
      } catch (e) {
        expect((e as Error).message).not.toContain(SECRET);
      }
    }
  });

  it('a symbolic link is refused, and what it points to is never read', () => {
    const secret = join(dir, 'shadow');
    writeFileSync(secret, 'root:$6$hunter2SECRET:19000:0:99999:7:::\n', { mode: 0o600 });
    symlinkSync(secret, path);
    const message = refused();
    expect(message).toMatch(/is a symbolic link/);
    expect(message).not.toMatch(/hunter2|SECRET|root:/);
    // the same for one the store would write: it is left as it is
    expect(() => new BaselineStore(path).add([{ port: 1 }])).toThrow(/symbolic link.*kept as it is/);
    expect(() => writeBaselineFile(path, { version: 1, rules: [] })).toThrow(/symbolic link/);
    expect(readFileSync(secret, 'utf8')).toMatch(/^root:/);
  });

  it('a FIFO is refused at once, never waited on (run in the CLI: on a blocking open it would hang)', async () => {
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    // no writer ever comes: an open that blocked would never return, and this test would time out
    const r = await runPortwatch(['audit', '--baseline', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is a FIFO, not a regular file/);
    // in this process too, now that it cannot block
    expect(refused()).toMatch(/is a FIFO/);
  });

  it('a directory or device is refused as not a regular file', () => {
    expect(refused(dir)).toMatch(/cannot read .*: it is a directory, not a regular file/);
    expect(refused('/dev/null')).toMatch(/it is a character device, not a regular file/);
  });

  it.runIf(isRoot)("a file owned by another user is refused: they would decide what root's audit expects", () => {
    writeFileSync(path, '{ "version": 1, "rules": [ { "port": 22 } ] }');
    chownSync(path, 65534, 65534);
    expect(refused()).toMatch(new RegExp(`owned by uid 65534, not by you \\(uid 0\\) or root.*chown 0 ${path}`));
  });

  it('a file others may write is refused, with the chmod that fixes it', () => {
    writeFileSync(path, '{ "version": 1, "rules": [ { "port": 22 } ] }');
    for (const mode of [0o664, 0o646, 0o666]) {
      chmodSync(path, mode);
      expect(refused()).toMatch(new RegExp(`writable by group or others \\(mode 0${mode.toString(8)}\\).*chmod go-w ${path}`));
    }
    chmodSync(path, 0o644);
    expect(loadBaseline(path).ok).toBe(true);
  });

  it('more than 1 MiB is refused; 1 MiB is fine', () => {
    const json = '{ "version": 1, "rules": [ { "port": 22 } ] }';
    writeFileSync(path, json.padEnd(1 << 20));
    expect(loadBaseline(path).ok).toBe(true);
    writeFileSync(path, json.padEnd((1 << 20) + 1));
    expect(refused()).toMatch(/larger than 1 MiB/);
  });

  it('writing: a symlinked config directory is refused, and nothing lands where it points', () => {
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(dir, 'portwatch'));
    const target = join(dir, 'portwatch', 'baseline.json');
    expect(() => writeBaselineFile(target, { version: 1, rules: [{ port: 22 }] })).toThrow(/portwatch is a symbolic link/);
    expect(() => new BaselineStore(target).add([{ port: 22 }])).toThrow(/symbolic link/);
    expect(readdirSync(elsewhere)).toEqual([]);
    // a link higher up, to a directory the writer would create things in
    symlinkSync(elsewhere, join(dir, 'cfg'));
    expect(() => writeBaselineFile(join(dir, 'cfg', 'portwatch', 'baseline.json'), { version: 1, rules: [] })).toThrow(/cfg is a symbolic link/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it.runIf(isRoot)("writing: a directory of another user's, or one others may write, is refused", () => {
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs);
    chownSync(theirs, 65534, 65534);
    expect(() => writeBaselineFile(join(theirs, 'portwatch', 'baseline.json'), { version: 1, rules: [] })).toThrow(
      new RegExp(`${theirs} is owned by uid 65534.*chown`),
    );
    expect(readdirSync(theirs)).toEqual([]);
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(() => writeBaselineFile(join(open, 'baseline.json'), { version: 1, rules: [] })).toThrow(
      new RegExp(`${open} is writable by group or others.*chmod go-w ${open}`),
    );
    expect(readdirSync(open)).toEqual([]);
  });

  it('writing: creates missing directories 0700, the file 0644, and a sticky /tmp above is fine', () => {
    const target = join(dir, 'a', 'b', 'baseline.json');
    writeBaselineFile(target, { version: 1, rules: [{ port: 22 }] });
    expect(statSync(join(dir, 'a')).mode & 0o7777).toBe(0o700);
    expect(statSync(join(dir, 'a', 'b')).mode & 0o7777).toBe(0o700);
    expect(statSync(target).mode & 0o7777).toBe(0o644);
    expect(loadBaseline(target)).toMatchObject({ ok: true, baseline: { rules: [{ port: 22 }] } });
    expect(existsSync(join(dir, 'a', 'b', 'baseline.json'))).toBe(true);
  });
});

describe('jsonErrorOffset', () => {
  it('finds where JSON goes wrong', () => {
    expect(jsonErrorOffset('{"a": [1, 2, {"b": null}], "c": "x\\u00e9"}')).toBe(null);
    expect(jsonErrorOffset(' [1,]')).toBe(4);
    expect(jsonErrorOffset('{"a" 1}')).toBe(5);
    expect(jsonErrorOffset('[01]')).toBe(2);
    expect(jsonErrorOffset('[1')).toBe(2);
    expect(jsonErrorOffset('')).toBe(0);
    expect(jsonErrorOffset('{} x')).toBe(3);
    expect(jsonErrorOffset('"a\\qb"')).toBe(0);
    expect(jsonErrorOffset('['.repeat(100_000))).toBe(100_000); // deep nesting: no recursion to overflow
  });

  it('fuzz: agrees with JSON.parse on what is valid', () => {
    let seed = 11;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed % n);
    const pieces = [
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"a"',
      '"',
      '\\',
      '1',
      '0',
      '-',
      '.',
      'e',
      '+',
      'true',
      'null',
      'fals',
      ' ',
      '\n',
      '\t',
      'x',
      '"\\u12"',
      '"\\n"',
      '\x01',
    ];
    let valid = 0;
    for (let i = 0; i < 20_000; i++) {
      const text = Array.from({ length: 1 + rand(8) }, () => pieces[rand(pieces.length)]).join('');
      let ok = true;
      try {
        JSON.parse(text);
      } catch {
        ok = false;
      }
      valid += ok ? 1 : 0;
      const at = jsonErrorOffset(text);
      expect(at === null, JSON.stringify(text)).toBe(ok);
      if (at !== null) expect(at).toBeLessThanOrEqual(text.length);
    }
    expect(valid).toBeGreaterThan(100);
  });
});
