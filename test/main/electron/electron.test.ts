import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { EngineApi } from '../../../src/main/api/engineApi';
import { bindIpc, trustedSender } from '../../../src/main/electron/ipc';
import { PortwatchTray } from '../../../src/main/electron/tray';
import { hardenWebContents, isAllowedExternal, reloadOnCrash, windowOptions } from '../../../src/main/electron/window';
import { Monitor } from '../../../src/main/engine/monitor';
import { createIpcApi } from '../../../src/preload/api';
import { ipcEventChannel, ipcInvokeChannel, type ApiResult } from '../../../src/shared/api';
import { API_METHODS } from '../../../src/shared/contract';
import { CSP } from '../../../src/shared/csp';
import type { Socket } from '../../../src/shared/model';
import { ROOT } from '../../helpers/paths';

/** A monitor over a scripted in-memory source: the engine itself is tested elsewhere. */
function testMonitor(sockets: Socket[] = []): Monitor {
  return new Monitor({ source: { name: 'procfs', list: () => Promise.resolve({ sockets, warnings: [] }) }, intervalMs: 1000 });
}

type Handler = (event: { senderFrame: unknown }, ...args: unknown[]) => Promise<ApiResult<unknown>>;

function fakeIpcMain(): { handlers: Map<string, Handler>; handle: (c: string, h: Handler) => void; removeHandler: (c: string) => void } {
  const handlers = new Map<string, Handler>();
  return { handlers, handle: (c, h) => handlers.set(c, h), removeHandler: (c) => handlers.delete(c) };
}

describe('window', () => {
  it('is sandboxed and isolated, with no node in the page', () => {
    const o = windowOptions('/app/out/preload/index.js');
    expect(o.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.js',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('pins the CSP, in the response header and in the page', () => {
    expect(CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
    );
    for (const file of ['src/renderer/index.html', 'out/renderer/index.html']) {
      const html = readFileSync(join(ROOT, file), 'utf8');
      const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
      // a <meta> CSP cannot carry frame-ancestors; the header does
      expect(meta, file).toBe(CSP.replace(" frame-ancestors 'none';", ''));
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    }
  });

  it('denies navigation and new windows; only allowlisted https links reach the browser', async () => {
    const listeners = new Map<string, (e: { preventDefault: () => void }) => void>();
    let openHandler!: (d: { url: string }) => { action: string };
    const contents = {
      on: (name: string, l: (e: { preventDefault: () => void }) => void) => listeners.set(name, l),
      setWindowOpenHandler: (h: typeof openHandler) => (openHandler = h),
    };
    const opened: string[] = [];
    hardenWebContents(contents as never, async (url) => {
      opened.push(url);
    });
    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const prevent = vi.fn();
      listeners.get(name)?.({ preventDefault: prevent });
      expect(prevent, name).toHaveBeenCalled();
    }
    for (const url of [
      'https://github.com/portwatch',
      'https://evil.example/',
      'http://github.com/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://github.com.evil.example/',
    ]) {
      expect(openHandler({ url })).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual(['https://github.com/portwatch']);
    expect(isAllowedExternal('https://user:pw@github.com/')).toBe(false);
    expect(isAllowedExternal('https://docs.github.com/x')).toBe(true);
    expect(isAllowedExternal('not a url')).toBe(false);
  });
});

describe('renderer crash', () => {
  it('reloads the window at most three times a minute, and not after a clean exit', () => {
    const clock = { t: 0 };
    let reloads = 0;
    const gone = reloadOnCrash(
      () => reloads++,
      () => clock.t,
    );
    expect(gone('clean-exit')).toBe(false);
    expect([gone('crashed'), gone('oom'), gone('killed'), gone('crashed')]).toEqual([true, true, true, false]);
    expect(reloads).toBe(3);
    clock.t += 60_000;
    expect(gone('crashed')).toBe(true);
    expect(reloads).toBe(4);
  });
});

describe('IPC', () => {
  const appUrl = 'file:///app/out/renderer/index.html';
  const main = { url: appUrl };
  const isTrusted = trustedSender(
    () => main as never,
    () => appUrl,
  );

  function bound(monitor = testMonitor()): Map<string, Handler> {
    const ipc = fakeIpcMain();
    bindIpc(ipc as never, new EngineApi(monitor), isTrusted);
    return ipc.handlers;
  }

  it('binds every API method', () => {
    expect([...bound().keys()].sort()).toEqual(API_METHODS.map(ipcInvokeChannel).sort());
  });

  it('refuses senders other than the app’s own main frame', async () => {
    const h = bound().get(ipcInvokeChannel('getState')) as Handler;
    expect(await h({ senderFrame: main })).toMatchObject({ ok: true });
    for (const frame of [null, { url: appUrl }, { url: 'https://evil.example/' }]) {
      expect(await h({ senderFrame: frame })).toEqual({ ok: false, code: 'forbidden', message: 'not the Portwatch window' });
    }
    // the main frame after it navigated elsewhere
    const moved = { url: 'https://evil.example/' };
    expect(
      trustedSender(
        () => moved as never,
        () => appUrl,
      )(moved as never),
    ).toBe(false);
    const withHash = { url: `${appUrl}#details` };
    expect(
      trustedSender(
        () => withHash as never,
        () => appUrl,
      )(withHash as never),
    ).toBe(true);
  });

  it('validates arguments and answers errors as values', async () => {
    const monitor = testMonitor();
    const h = bound(monitor);
    const setPollInterval = h.get(ipcInvokeChannel('setPollInterval')) as Handler;
    const bad: unknown[][] = [[], ['1000'], [NaN], [Infinity], [100], [1000.5], [[1000]], [{ ms: 1000 }], [1000, 1], [null], [4_000_000]];
    for (const args of bad) {
      const r = await setPollInterval({ senderFrame: main }, ...args);
      expect(r, JSON.stringify(args)).toMatchObject({ ok: false, code: 'bad-request' });
      expect(r.ok === false && r.message).toMatch(/^setPollInterval: /);
    }
    expect(monitor.getIntervalMs()).toBe(1000);
    expect(await setPollInterval({ senderFrame: main }, 2000)).toEqual({ ok: true, value: 2000 });
    expect(monitor.getIntervalMs()).toBe(2000);
    const pause = h.get(ipcInvokeChannel('pausePolling')) as Handler;
    expect(await pause({ senderFrame: main }, 'extra')).toMatchObject({ ok: false, code: 'bad-request' });
    expect(await pause({ senderFrame: main })).toEqual({ ok: true, value: null });
    expect(monitor.isPaused()).toBe(true);
    expect(await new EngineApi(monitor).call('killEverything', [])).toMatchObject({ ok: false, code: 'unknown-method' });
    expect(await new EngineApi(monitor).call({ toString: 1 }, [])).toMatchObject({ ok: false, code: 'unknown-method' });
    expect(await new EngineApi(monitor).call('getState', 'not-an-array')).toMatchObject({ ok: false, code: 'bad-request' });
  });
});

describe('preload bridge', () => {
  it('exposes named methods over invoke, and subscriptions that pass data, not events, and unsubscribe', async () => {
    const calls: unknown[][] = [];
    const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
    const ipc = {
      invoke: async (...a: unknown[]) => {
        calls.push(a);
        return { ok: true, value: 'answer' };
      },
      on: (c: string, l: (...a: unknown[]) => void) => {
        if (!listeners.has(c)) listeners.set(c, new Set());
        listeners.get(c)?.add(l);
      },
      removeListener: (c: string, l: (...a: unknown[]) => void) => listeners.get(c)?.delete(l),
    };
    const api = createIpcApi(ipc as never);
    // every request method of the contract, the subscriptions, and nothing else (no ipcRenderer)
    expect(Object.keys(api).sort()).toEqual(
      [
        ...API_METHODS,
        'onSnapshot',
        'onDelta',
        'onStatus',
        'onHostNames',
        'onBaseline',
        'onAlert',
        'onAlertSettings',
        'onAction',
        'onConnection',
        'onHistoryStatus',
      ].sort(),
    );
    expect(await api.setPollInterval(500)).toEqual({ ok: true, value: 'answer' });
    expect(calls).toEqual([[ipcInvokeChannel('setPollInterval'), 500]]);
    const got: unknown[][] = [];
    const off = api.onDelta((...a: unknown[]) => got.push(a));
    for (const l of listeners.get(ipcEventChannel('delta')) ?? []) l({ sender: 'raw event' }, { seq: 2 });
    expect(got).toEqual([[{ seq: 2 }]]);
    off();
    expect(listeners.get(ipcEventChannel('delta'))?.size).toBe(0);
    const failing = createIpcApi({ ...ipc, invoke: () => Promise.reject(new Error('gone')) } as never);
    expect(await failing.getState()).toEqual({ ok: false, code: 'disconnected', message: 'gone' });
  });
});

describe('tray', () => {
  it('shows the number of listening ports and offers show, pause and quit', () => {
    const made: Array<{ tooltip: string; title: string; menu: Array<{ label?: string; click?: () => void }> }> = [];
    class FakeTray {
      state = { tooltip: '', title: '', menu: [] as Array<{ label?: string; click?: () => void }> };
      constructor() {
        made.push(this.state);
      }
      on(): void {}
      setToolTip(t: string): void {
        this.state.tooltip = t;
      }
      setTitle(t: string): void {
        this.state.title = t;
      }
      setContextMenu(m: Array<{ label?: string; click?: () => void }>): void {
        this.state.menu = m;
      }
      destroy(): void {}
    }
    const actions = { show: vi.fn(), togglePolling: vi.fn(), quit: vi.fn() };
    const tray = new PortwatchTray({ Tray: FakeTray as never, Menu: { buildFromTemplate: (t: unknown) => t as never }, icon: {} as never }, actions);
    tray.update(3, false);
    expect(made[0]?.tooltip).toBe('Portwatch: 3 listening ports');
    expect(made[0]?.title).toBe('3');
    tray.update(1, true);
    expect(made[0]?.tooltip).toBe('Portwatch: 1 listening port (polling paused)');
    const menu = made[0]?.menu ?? [];
    menu.find((i) => i.label === 'Resume polling')?.click?.();
    menu.find((i) => i.label === 'Quit')?.click?.();
    menu.find((i) => i.label === 'Show Portwatch')?.click?.();
    expect([actions.togglePolling, actions.quit, actions.show].map((f) => f.mock.calls.length)).toEqual([1, 1, 1]);
  });
});
