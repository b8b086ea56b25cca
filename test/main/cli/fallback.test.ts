import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from '../../../src/shared/model';
import { runPortwatch } from '../../helpers/cli';
import { BIN } from '../../helpers/paths';

/**
 * Portwatch where netlink cannot serve: an install whose koffi is missing (a platform without its binary, a
 * broken install). It must fall back to procfs and say so, not fail.
 */
describe('without koffi', () => {
  let dir: string;
  // a socket of this process for --pid to find (nothing matched would be exit 1, as lsof)
  let server: Server;
  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(join(tmpdir(), 'pw-nokoffi-'));
    const install = dirname(dirname(BIN));
    for (const part of ['bin', 'out', 'package.json']) cpSync(join(install, part), join(dir, part), { recursive: true });
    // every other package the bundles load at run time, but not koffi
    if (existsSync(join(install, 'node_modules')))
      cpSync(join(install, 'node_modules'), join(dir, 'node_modules'), { recursive: true, filter: (src) => !src.includes(`${join('node_modules', 'koffi')}`) });
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise((r) => server.close(r));
  });

  it('lists from /proc/net, and says why on stderr (a monitor says it in every status)', async () => {
    const r = await runPortwatch(['list', '--json', '--pid', String(process.pid)], process.env, join(dir, 'bin', 'portwatch'));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { source: string; sockets: Socket[] };
    expect(out.source).toBe('procfs');
    expect(out.sockets.some((s) => s.localPort === (server.address() as { port: number }).port)).toBe(true);
    expect(r.stderr).toMatch(/netlink unavailable \(cannot load libc through koffi: .*\): reading \/proc\/net instead/);
  });

  it('refuses --source netlink with a message that says why', async () => {
    const r = await runPortwatch(['list', '--source', 'netlink'], process.env, join(dir, 'bin', 'portwatch'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the netlink source cannot run here: cannot load libc through koffi/);
    expect(r.stdout).toBe('');
  });
});
