import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BaselineStore, loadBaseline, writeBaselineFile } from '../../../src/main/engine/baselineFile';
import { isExpected } from '../../../src/shared/baseline';
import { makeProcess, makeSocket } from '../../helpers/sockets';

/** Issue 14, item 2: rules people write (ranges, any port, exposure scope), read as hostile input. */
describe('baseline file: rules people write', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pw-rules-'));
    path = join(dir, 'baseline.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a version 2 file with a range, any port for an executable, and an exposure scope; version 1 files stay readable', () => {
    const rules = [
      { ports: '8000-8999', protocol: 'tcp' },
      { exe: '/usr/bin/node', exposure: 'loopback' },
      { process: 'sshd', port: 22 },
    ];
    writeFileSync(path, JSON.stringify({ version: 2, rules }));
    const r = loadBaseline(path);
    expect(r).toEqual({ ok: true, exists: true, baseline: { version: 2, rules } });
    const node = (port: number, address: string) =>
      makeSocket({ localPort: port, localAddress: address, process: makeProcess(7, 'node', { exe: '/usr/bin/node' }) });
    const got = r.ok ? r.baseline.rules : [];
    expect([node(8000, '0.0.0.0'), node(8999, '0.0.0.0'), node(9000, '0.0.0.0'), node(7999, '0.0.0.0')].map((s) => isExpected(got, s))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect([node(41234, '127.0.0.1'), node(41234, '10.0.0.5')].map((s) => isExpected(got, s))).toEqual([true, false]);
    writeFileSync(path, '{ "version": 1, "rules": [ { "process": "cupsd", "port": 631 } ] }');
    expect(loadBaseline(path)).toEqual({ ok: true, exists: true, baseline: { version: 1, rules: [{ process: 'cupsd', port: 631 }] } });
  });

  it('refuses malformed planted rules by index with a clear error, never as match-all, and never quotes them', () => {
    const SECRET = 'hunter2SECRETk3y';
    for (const [rule, why] of [
      ['{ "ports": "abc" }', /rules\[1\]\.ports: must be a range of ports, low-high/],
      ['{ "ports": "9000-8000" }', /rules\[1\]\.ports: must be a range of ports/],
      ['{ "ports": "1-70000" }', /rules\[1\]\.ports: must be a range of ports/],
      ['{ "ports": "" }', /rules\[1\]\.ports: must be a range of ports/],
      ['{ "ports": "-1-5" }', /rules\[1\]\.ports: must be a range of ports/],
      [`{ "ports": "${SECRET}" }`, /rules\[1\]\.ports: /],
      ['{ "ports": 8000 }', /rules\[1\]\.ports: .*expected string/],
      ['{ "ports": "0-65535" }', /rules\[1\]: covers every port and sets nothing else/],
      ['{ "ports": "0-65535", "note": "all" }', /rules\[1\]: covers every port and sets nothing else/],
      ['{ "port": 80, "ports": "80-90" }', /rules\[1\]: sets both port and ports/],
      ['{ "exe": "" }', /rules\[1\]\.exe: /],
      ['{ "exposure": "internet" }', /rules\[1\]\.exposure: /],
      ['{ "note": "any port for node" }', /rules\[1\]: sets no field to match/],
    ] as const) {
      const text = `{ "version": 2, "rules": [ { "port": 22 }, ${rule} ] }`;
      writeFileSync(path, text);
      const r = loadBaseline(path);
      expect(r.ok, rule).toBe(false);
      if (!r.ok) {
        expect(r.message, rule).toMatch(why);
        expect(r.message).not.toContain('hunter2');
      }
      // a broken file expects nothing and is never overwritten
      const store = new BaselineStore(path);
      expect(store.rules()).toEqual([]);
      expect(() => store.add([{ port: 1 }])).toThrow(/kept as it is/);
      expect(readFileSync(path, 'utf8')).toBe(text);
    }
  });

  it('a range in a version 1 file is refused: it needs version 2', () => {
    writeFileSync(path, '{ "version": 1, "rules": [ { "ports": "8000-8999" } ] }');
    expect(loadBaseline(path)).toMatchObject({ ok: false, message: expect.stringMatching(/rules\[0\]\.ports: a range of ports needs "version": 2/) });
  });

  it('writes the lowest version that holds the rules, and edits or removes one rule keeping the others', () => {
    const store = new BaselineStore(path);
    store.add([{ process: 'sshd', port: 22 }]);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, rules: [{ process: 'sshd', port: 22 }] });
    store.add([{ exe: '/usr/bin/node', ports: '3000-3999', exposure: 'loopback' }]);
    expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(2);
    // edited by hand meanwhile: kept
    writeFileSync(path, JSON.stringify({ version: 2, rules: [...store.rules(), { port: 631, note: 'cups' }] }));
    store.replace({ exe: '/usr/bin/node', ports: '3000-3999', exposure: 'loopback' }, { exe: '/usr/bin/node', exposure: 'loopback' });
    expect(store.rules()).toEqual([
      { process: 'sshd', port: 22 },
      { exe: '/usr/bin/node', exposure: 'loopback' },
      { port: 631, note: 'cups' },
    ]);
    expect(JSON.parse(readFileSync(path, 'utf8')).version).toBe(1);
    store.replace({ port: 631, note: 'cups' }, null);
    expect(loadBaseline(path)).toMatchObject({
      ok: true,
      baseline: {
        rules: [
          { process: 'sshd', port: 22 },
          { exe: '/usr/bin/node', exposure: 'loopback' },
        ],
      },
    });
    expect(() => store.replace({ port: 631, note: 'cups' }, null)).toThrow(/no longer in the file/);
    expect(() => writeBaselineFile(path, { version: 2, rules: [{ ports: 'x' }] })).toThrow(/rules\[0\]\.ports/);
  });
});
