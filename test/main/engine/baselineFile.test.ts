import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN } from '../../helpers/paths';
import { BaselineStore, defaultBaselinePath, loadBaseline, writeBaselineFile } from '../../../src/main/engine/baselineFile';

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
    expect(r).toMatchObject({ ok: true, baseline: { rules: [{ port: 53, protocol: 'udp' }, { process: 'cupsd', exposure: 'loopback' }] } });
  });

  it('reports a broken file with what is wrong, and never overwrites it', () => {
    writeBaselineFile(path, { version: 1, rules: [] });
    for (const [text, why] of [
      ['{ "version": 1, "rules": [ ', /not valid JSON/],
      ['{ "version": 2, "rules": [] }', /not a Portwatch baseline/],
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
    const runs = Array.from({ length: 6 }, () =>
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

  it('lives in the XDG config directory', () => {
    expect(defaultBaselinePath({ XDG_CONFIG_HOME: '/x/cfg' })).toBe('/x/cfg/portwatch/baseline.json');
    expect(defaultBaselinePath({ XDG_CONFIG_HOME: 'relative' })).toMatch(/\/\.config\/portwatch\/baseline\.json$/);
  });
});
