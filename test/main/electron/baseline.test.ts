import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { BIN } from '../../helpers/paths';
import { defaultBaselinePath, loadBaseline } from '../../../src/main/engine/baselineFile';

/**
 * The Electron entry's baseline: the user's one file, which `portwatch audit` reads, with what the app kept in
 * its userData directory merged into it once. Only the entry's load is run (the app never gets ready here);
 * main.test.ts marks a listener expected through IPC and has the CLI read it.
 */
const fx = vi.hoisted(() => ({ userData: '' }));

vi.mock('electron', () => ({
  app: { isPackaged: true, getPath: () => fx.userData, whenReady: () => new Promise(() => {}), on: () => {} },
  protocol: { registerSchemesAsPrivileged: () => {} },
  utilityProcess: { fork: () => null },
  BrowserWindow: class {},
  Tray: class {},
  Notification: class {},
  Menu: {},
  nativeImage: {},
  shell: {},
  ipcMain: {},
  session: {},
}));

vi.mock('../../../src/main/engine/monitorHost', async () => {
  const { Monitor } = await import('../../../src/main/engine/monitor');
  class MonitorHost extends Monitor {
    constructor() {
      super({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [], warnings: [] }) }, intervalMs: 250 });
    }
  }
  return { MonitorHost };
});

describe('the desktop app and portwatch audit share one baseline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pw-app-baseline-'));
  const config = join(dir, 'config');
  const before = process.env.XDG_CONFIG_HOME;
  afterAll(() => {
    if (before === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = before;
    rmSync(dir, { recursive: true, force: true });
  });

  it("merges the app's old userData baseline once, into the file the CLI reads", async () => {
    process.env.XDG_CONFIG_HOME = config;
    fx.userData = join(dir, 'userData');
    mkdirSync(fx.userData);
    const old = join(fx.userData, 'baseline.json');
    const oldText = JSON.stringify({ version: 1, rules: [{ process: 'sshd', protocol: 'tcp', port: 22, exposure: 'all' }] });
    writeFileSync(old, oldText);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});

    await import('../../../src/main/index');
    const path = defaultBaselinePath();
    expect(path).toBe(join(config, 'portwatch', 'baseline.json'));
    expect(loadBaseline(path)).toEqual({
      ok: true,
      exists: true,
      baseline: { version: 1, rules: [{ process: 'sshd', protocol: 'tcp', port: 22, exposure: 'all' }] },
    });
    expect(readFileSync(old, 'utf8')).toBe(oldText);
    expect(warn.mock.calls).toEqual([
      [`Portwatch: merged the old baseline ${old} into ${path} (1 of 1 rule new); the old file is left in place and no longer read`],
    ]);

    // the CLI, run as users run it, reads that file and has nothing to merge
    const audit = spawnSync(process.execPath, [BIN, 'audit', '--source', 'procfs'], { encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: config } });
    expect(audit.status, audit.stderr).toBe(0);
    expect(audit.stdout).toContain(`baseline: ${path}`);
    expect(audit.stderr).not.toMatch(/merge/);

    // the next start of the app merges nothing again, even when the old file changed
    writeFileSync(old, JSON.stringify({ version: 1, rules: [{ port: 9 }] }));
    warn.mockClear();
    vi.resetModules();
    await import('../../../src/main/index');
    expect(warn).not.toHaveBeenCalled();
    expect(loadBaseline(path)).toMatchObject({ ok: true, baseline: { rules: [{ port: 22 }] } });
    warn.mockRestore();
  });
});
