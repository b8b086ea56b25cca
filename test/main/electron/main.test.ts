import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { BIN, SI_CHILD, WORKER } from '../../helpers/paths';
import { defaultBaselinePath, loadBaseline } from '../../../src/main/engine/baselineFile';
import { HistoryLock } from '../../../src/main/engine/history/lock';
import type { RecordingStatus } from '../../../src/shared/recording';
import { ipcInvokeChannel } from '../../../src/shared/api';
import { API_METHODS } from '../../../src/shared/contract';
import { CSP } from '../../../src/shared/csp';

/**
 * The Electron entry (src/main/index.ts) against a mocked `electron` module: no Electron binary can run here.
 * The monitor is the real Monitor over an in-memory source.
 */
const fx = vi.hoisted(() => {
  const appHandlers = new Map<string, (e: { preventDefault: () => void }) => void>();
  let ready!: () => void;
  const whenReady = new Promise<void>((r) => (ready = r));
  const windows: Array<{
    options: Record<string, unknown>;
    handlers: Map<string, (e: { preventDefault: () => void }) => void>;
    loaded: string[];
    hidden: number;
    mainFrame: { url: string };
  }> = [];
  const ipcHandlers = new Map<string, unknown>();
  const headerHooks: Array<(d: { responseHeaders: Record<string, string[]> }, cb: (r: unknown) => void) => void> = [];
  const trays: Array<{ tooltip: string }> = [];
  const quit = { count: 0 };
  const stops = { count: 0 };
  /** What src/main/index.ts gave the MonitorHost; what it asked utilityProcess to fork. */
  const host: { options?: { workerPath?: string; siLauncher?: (job: string, timeoutMs: number) => Promise<unknown> } } = {};
  const forks: Array<{ modulePath: string; args: string[]; options: Record<string, unknown> }> = [];
  const notifications: Array<{ title: string; body: string }> = [];
  /** What the in-memory engine lists: the test adds an unexpected listener later. */
  const sockets: unknown[] = [];
  /** The app:// registration, with whether the app was ready when it was made; the app:// handler. */
  const protocol = {
    privileged: [] as Array<{ schemes: unknown; afterReady: boolean }>,
    handlers: new Map<string, (r: { url: string }) => Promise<Response>>(),
  };
  const permissions: { check?: (...a: unknown[]) => boolean; request?: (...a: unknown[]) => void; device?: (...a: unknown[]) => boolean } = {};
  const state = { ready: false };
  // a packaged app whose environment names a dev server: it must be ignored
  process.env.ELECTRON_RENDERER_URL = 'http://localhost:5173';
  return {
    appHandlers,
    whenReady,
    ready: () => {
      state.ready = true;
      ready();
    },
    state,
    windows,
    ipcHandlers,
    headerHooks,
    trays,
    quit,
    stops,
    host,
    forks,
    notifications,
    sockets,
    protocol,
    permissions,
  };
});

vi.mock('electron', async () => {
  const { EventEmitter } = await import('node:events');
  const { PassThrough } = await import('node:stream');
  class BrowserWindow {
    handlers = new Map<string, (e: { preventDefault: () => void }) => void>();
    record: (typeof fx.windows)[number];
    webContents = {
      on: () => {},
      reload: () => {},
      setWindowOpenHandler: () => {},
      send: () => {},
      mainFrame: { url: 'app://portwatch/index.html' },
    };
    constructor(options: Record<string, unknown>) {
      this.record = { options, handlers: this.handlers, loaded: [], hidden: 0, mainFrame: this.webContents.mainFrame };
      fx.windows.push(this.record);
    }
    once(name: string, l: () => void): void {
      if (name === 'ready-to-show') l();
    }
    on(name: string, l: (e: { preventDefault: () => void }) => void): void {
      this.handlers.set(name, l);
    }
    loadFile(f: string): Promise<void> {
      this.record.loaded.push(f);
      return Promise.resolve();
    }
    loadURL(u: string): Promise<void> {
      this.record.loaded.push(u);
      return Promise.resolve();
    }
    show(): void {}
    focus(): void {}
    hide(): void {
      this.record.hidden++;
    }
    isDestroyed(): boolean {
      return false;
    }
  }
  class Tray {
    state = { tooltip: '' };
    constructor() {
      fx.trays.push(this.state);
    }
    on(): void {}
    setToolTip(t: string): void {
      this.state.tooltip = t;
    }
    setTitle(): void {}
    setContextMenu(): void {}
    destroy(): void {}
  }
  return {
    app: {
      isPackaged: true,
      getPath: () => `/tmp/portwatch-test-userdata-${process.pid}`,
      whenReady: () => fx.whenReady,
      on: (name: string, l: (e: { preventDefault: () => void }) => void) => fx.appHandlers.set(name, l),
      quit: () => {
        fx.quit.count++;
      },
    },
    BrowserWindow,
    Tray,
    Menu: { buildFromTemplate: (t: unknown) => t },
    nativeImage: { createFromPath: () => ({}) },
    shell: { openExternal: () => Promise.resolve() },
    Notification: class {
      constructor(readonly opts: { title: string; body: string }) {}
      static isSupported(): boolean {
        return true;
      }
      on(): void {}
      show(): void {
        fx.notifications.push(this.opts);
      }
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown) => fx.protocol.privileged.push({ schemes, afterReady: fx.state.ready }),
      handle: (scheme: string, h: (r: { url: string }) => Promise<Response>) => fx.protocol.handlers.set(scheme, h),
    },
    // a helper that answers at once, as the real one does on one stdout line
    utilityProcess: {
      fork: (modulePath: string, args: string[], options: Record<string, unknown>) => {
        fx.forks.push({ modulePath, args, options });
        const child = Object.assign(new EventEmitter(), { pid: 4242, stdout: new PassThrough(), stderr: new PassThrough(), kill: () => true });
        setImmediate(() => {
          child.emit('spawn');
          child.stdout.write('[]\n');
        });
        return child;
      },
    },
    ipcMain: { handle: (c: string, h: unknown) => fx.ipcHandlers.set(c, h), removeHandler: (c: string) => fx.ipcHandlers.delete(c) },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (h: (typeof fx.headerHooks)[number]) => fx.headerHooks.push(h) },
        setPermissionRequestHandler: (h: (...a: unknown[]) => void) => (fx.permissions.request = h),
        setPermissionCheckHandler: (h: (...a: unknown[]) => boolean) => (fx.permissions.check = h),
        setDevicePermissionHandler: (h: (...a: unknown[]) => boolean) => (fx.permissions.device = h),
      },
    },
  };
});

vi.mock('../../../src/main/engine/monitorHost', async () => {
  const { Monitor } = await import('../../../src/main/engine/monitor');
  class MonitorHost extends Monitor {
    constructor(options: NonNullable<typeof fx.host.options>) {
      fx.host.options = options;
      super({ source: { name: 'procfs', list: () => Promise.resolve({ sockets: [...fx.sockets] as never, warnings: [] }) }, intervalMs: 250 });
    }
    override async stop(): Promise<void> {
      fx.stops.count++;
      await super.stop();
    }
  }
  return { MonitorHost };
});

describe('Electron main entry', () => {
  it('opens one hardened window, binds IPC, sets the CSP header, shows a tray, records the history, and quits cleanly', async () => {
    // the app's baseline is the user's one, here in a config directory of the test's own (baseline.test.ts: its migration)
    const config = mkdtempSync(join(tmpdir(), 'pw-main-config-'));
    process.env.XDG_CONFIG_HOME = config;
    // and its history the user's one, here in a state directory of the test's own
    const state = mkdtempSync(join(tmpdir(), 'pw-main-state-'));
    process.env.XDG_STATE_HOME = state;
    await import('../../../src/main/index');
    fx.ready();
    await fx.whenReady;
    await vi.waitFor(() => expect(fx.windows).toHaveLength(1));

    const win = fx.windows[0]!;
    expect(win.options.webPreferences).toMatchObject({ sandbox: true, contextIsolation: true, nodeIntegration: false });
    expect(String((win.options.webPreferences as { preload: string }).preload)).toMatch(/preload[\\/]index\.js$/);
    // app:// is privileged at load time, before ready; the window loads it, never the dev server of a packaged app
    expect(fx.protocol.privileged).toEqual([
      { schemes: [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }], afterReady: false },
    ]);
    expect(win.loaded).toEqual(['app://portwatch/index.html']);
    const serve = fx.protocol.handlers.get('app');
    expect(serve).toBeDefined();
    const page = await serve!({ url: 'app://portwatch/index.html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toMatch(/<div id="root">/);
    for (const url of ['app://portwatch/../../etc/passwd', 'app://portwatch/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 'app://portwatch/..%2f..%2f..%2fetc%2fpasswd']) {
      const r = await serve!({ url });
      expect(r.status, url).not.toBe(200);
      expect(await r.text(), url).toBe('');
    }

    // the monitor worker and its systeminformation helper are the CLI's bundles; this process forks the helper, as a
    // utility process
    expect(fx.host.options?.workerPath).toBe(WORKER);
    await expect(fx.host.options?.siLauncher?.('connections', 5000)).resolves.toMatchObject({ code: 0, stdout: '[]', timedOut: false });
    expect(fx.forks).toEqual([
      {
        modulePath: SI_CHILD,
        args: ['--portwatch-si-child', 'connections', '--until-stopped'],
        options: { stdio: 'pipe', serviceName: 'Portwatch systeminformation helper' },
      },
    ]);

    // every permission is denied, checked or requested
    expect(fx.permissions.check?.(null, 'notifications', 'app://portwatch', {})).toBe(false);
    expect(fx.permissions.device?.({ deviceType: 'hid', origin: 'app://portwatch' })).toBe(false);
    for (const permission of ['notifications', 'media', 'geolocation', 'clipboard-read', 'openExternal']) {
      const answer = vi.fn();
      fx.permissions.request?.(null, permission, answer, {});
      expect(answer, permission).toHaveBeenCalledWith(false);
    }

    // IPC answers the app:// page only
    const getState = fx.ipcHandlers.get(ipcInvokeChannel('getState')) as (e: { senderFrame: unknown }) => Promise<{ ok: boolean }>;
    const mainFrame = win.mainFrame;
    expect(await getState({ senderFrame: mainFrame })).toMatchObject({ ok: true });
    mainFrame.url = 'http://localhost:5173/';
    expect(await getState({ senderFrame: mainFrame })).toMatchObject({ ok: false, code: 'forbidden' });
    mainFrame.url = 'app://portwatch/index.html';

    expect([...fx.ipcHandlers.keys()].sort()).toEqual(API_METHODS.map(ipcInvokeChannel).sort());

    let headers: unknown;
    fx.headerHooks[0]?.({ responseHeaders: { 'X-Other': ['1'] } }, (r) => (headers = r));
    expect(headers).toEqual({ responseHeaders: { 'X-Other': ['1'], 'Content-Security-Policy': [CSP] } });

    expect(fx.trays).toHaveLength(1);
    await vi.waitFor(() => expect(fx.trays[0]?.tooltip).toBe('Portwatch: 0 listening ports'));

    // an unexpected listener appears: a desktop notification says so
    fx.sockets.push({
      id: 'tcp|0.0.0.0|6379|*|*|1',
      protocol: 'tcp',
      family: 4,
      localAddress: '0.0.0.0',
      localPort: 6379,
      remoteAddress: null,
      remotePort: null,
      state: 'LISTEN',
      listening: true,
      pid: 77,
      pids: [77],
      uid: 0,
      user: 'root',
      ownerHidden: false,
      process: { pid: 77, ppid: 1, name: 'redis-server', exe: '/usr/bin/redis-server', cmdline: ['redis-server'], uid: 0, user: 'root', startTime: 1 },
    });
    await vi.waitFor(() => expect(fx.notifications).toHaveLength(1), { timeout: 5000 });
    expect(fx.notifications[0]?.title).toBe('Portwatch: unexpected listener');
    expect(fx.notifications[0]?.body).toMatch(
      /redis-server \(pid 77\) listens on tcp 0\.0\.0\.0:6379, reachable on every interface\. Redis has no authentication/,
    );

    // "Mark as expected" writes the user's baseline, and `portwatch audit` reads that very file
    const markExpected = fx.ipcHandlers.get(ipcInvokeChannel('markExpected')) as (
      e: { senderFrame: unknown },
      id: string,
    ) => Promise<{ ok: boolean; value?: { path: string } }>;
    const marked = await markExpected({ senderFrame: mainFrame }, 'tcp|0.0.0.0|6379|*|*|1');
    expect(marked).toMatchObject({ ok: true, value: { ok: true, path: defaultBaselinePath(), exists: true } });
    expect(defaultBaselinePath()).toBe(join(config, 'portwatch', 'baseline.json'));
    expect(loadBaseline(defaultBaselinePath())).toMatchObject({
      ok: true,
      baseline: { rules: [{ process: 'redis-server', protocol: 'tcp', port: 6379, exposure: 'all' }] },
    });
    const audit = spawnSync(process.execPath, [BIN, 'audit', '--source', 'procfs'], { encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: config } });
    expect(audit.status, audit.stderr).toBe(0);
    expect(audit.stdout).toContain(`baseline: ${defaultBaselinePath()}`);
    rmSync(config, { recursive: true, force: true });

    // the app records the history while it runs, into the user's one (the one `record` and `history` use)
    const getHistoryStatus = fx.ipcHandlers.get(ipcInvokeChannel('getHistoryStatus')) as (e: {
      senderFrame: unknown;
    }) => Promise<{ ok: boolean; value?: RecordingStatus }>;
    const historyDb = join(state, 'portwatch', 'history.db');
    await vi.waitFor(
      async () => expect(await getHistoryStatus({ senderFrame: mainFrame })).toMatchObject({ ok: true, value: { state: 'recording', path: historyDb } }),
      {
        timeout: 20_000,
      },
    );
    expect(HistoryLock.holder(`${historyDb}.lock`)).toMatchObject({ pid: process.pid, command: 'Portwatch desktop app' });

    // closing the window hides it: watching goes on from the tray
    const close = vi.fn();
    win.handlers.get('close')?.({ preventDefault: close });
    expect(close).toHaveBeenCalled();
    expect(win.hidden).toBe(1);

    // quitting stops the monitor first, then quits for real
    const hold = vi.fn();
    fx.appHandlers.get('before-quit')?.({ preventDefault: hold });
    expect(hold).toHaveBeenCalled();
    await vi.waitFor(() => expect(fx.quit.count).toBe(1), { timeout: 10_000 });
    expect(fx.stops.count).toBe(1);
    // the history was closed before quitting: its lock is free for the next Portwatch
    expect(HistoryLock.holder(`${historyDb}.lock`)).toBeNull();
    rmSync(state, { recursive: true, force: true });
    const again = vi.fn();
    fx.appHandlers.get('before-quit')?.({ preventDefault: again });
    expect(again).not.toHaveBeenCalled();
  });
});
