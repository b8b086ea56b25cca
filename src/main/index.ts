/// <reference types="vite/client" />
import { app, BrowserWindow, ipcMain, Menu, nativeImage, Notification, protocol, session, shell, Tray, utilityProcess } from 'electron';
import { join } from 'node:path';
import { CSP } from '../shared/csp';
import { shouldNotify } from '../shared/alerts';
import { EngineApi } from './api/engineApi';
import { appDir, appPath, bundlePath, defaultHistoryPath, defaultSettingsPath, MonitorHost, userBaselinePath } from './engine';
import { bindIpc, forwardEvents, trustedSender } from './electron/ipc';
import { denyAllPermissions } from './electron/permissions';
import { appProtocolHandler, APP_SCHEME, registerAppScheme, rendererUrl } from './electron/protocol';
import { utilitySiLauncher } from './electron/siLauncher';
import { PortwatchTray } from './electron/tray';
import { hardenWebContents, reloadOnCrash, windowOptions } from './electron/window';

/**
 * Electron entry: one window, the monitor in a worker thread, PortwatchApi over IPC, a tray icon with the
 * number of listening ports. Everything Electron-specific stays thin here and in ./electron.
 */

// The monitor worker and systeminformation's helper are the Node bundles the CLI runs too (src/main/engine/bundles.ts).
// Only this process can start the helper (utilityProcess): the worker asks for it, and never starts the Electron
// binary as Node (the RunAsNode fuse is off).
const monitor = new MonitorHost({ workerPath: bundlePath('worker'), siLauncher: utilitySiLauncher(utilityProcess, bundlePath('si-child')) });
// the user's one baseline, which `portwatch audit` reads too; the one earlier versions kept in userData is merged once
const baselinePath = userBaselinePath((line) => console.warn(`Portwatch: ${line}`), { legacy: [join(app.getPath('userData'), 'baseline.json')] });
// the user's one history, which `serve`, `record` and `history` use too; recorded while the app runs (the
// More menu's Record history turns it off), unless another Portwatch records into it already
const engineApi = new EngineApi(monitor, {
  baselinePath,
  historyPath: defaultHistoryPath(),
  // Record history and the alert settings (mutes, snooze, first contacts) kept across restarts in the user's settings.json
  record: 'setting',
  settingsPath: defaultSettingsPath(),
  onSettingsError: (message) => console.warn(`Portwatch: ${message}`),
  historyCommand: 'Portwatch desktop app',
  onHistoryError: (message) => console.warn(`Portwatch: history: ${message}`),
});
let win: BrowserWindow | null = null;
let tray: PortwatchTray | null = null;
let quitting = false;

// app:// must be privileged before the app is ready: at load time
registerAppScheme(protocol);

// the dev server only in an unpackaged `electron-vite dev` build; import.meta.env.DEV is `false` in a build
const pageUrl = rendererUrl({ isPackaged: app.isPackaged, dev: import.meta.env.DEV, devServerUrl: process.env.ELECTRON_RENDERER_URL });
const appUrl = (): string => pageUrl;

function createWindow(): void {
  win = new BrowserWindow({ ...windowOptions(appPath('preload')), icon: join(__dirname, '../../resources/icon.png') });
  hardenWebContents(win.webContents, (url) => shell.openExternal(url));
  const onGone = reloadOnCrash(() => win?.webContents.reload());
  win.webContents.on('render-process-gone', (_e, details) => onGone(details.reason));
  win.once('ready-to-show', () => win?.show());
  win.on('close', (e) => {
    // closing the window keeps watching from the tray; Quit (tray or app menu) ends it
    if (!quitting && tray) {
      e.preventDefault();
      win?.hide();
    }
  });
  win.on('closed', () => (win = null));
  void win.loadURL(pageUrl);
}

function show(): void {
  if (!win) createWindow();
  win?.show();
  win?.focus();
}

void app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  denyAllPermissions(session.defaultSession);
  protocol.handle(APP_SCHEME, appProtocolHandler(appDir('renderer')));

  bindIpc(
    ipcMain,
    engineApi,
    trustedSender(() => win?.webContents.mainFrame ?? null, appUrl),
  );
  forwardEvents(engineApi, (channel, data) => {
    if (win && !win.isDestroyed()) win.webContents.send(channel, data);
  });

  // an unexpected listener on all interfaces: a desktop notification (the alerts service coalesces them per uid)
  engineApi.subscribe((m) => {
    if (m.event !== 'alert' || !Notification.isSupported()) return;
    const a = m.payload;
    if (!shouldNotify(a)) return;
    const n = new Notification({ title: 'Portwatch: unexpected listener', body: a.risk ? `${a.message}. ${a.risk}.` : a.message });
    n.on('click', show);
    n.show();
  });

  tray = new PortwatchTray(
    { Tray, Menu, icon: nativeImage.createFromPath(join(__dirname, '../../resources/tray.png')) },
    {
      show,
      togglePolling: () => (monitor.isPaused() ? monitor.resume() : monitor.pause()),
      quit: () => app.quit(),
    },
  );
  // counted in the monitor's own map: no copy of every socket per poll
  const refreshTray = (): void => tray?.update(monitor.counts().listening, monitor.isPaused());
  monitor.on('snapshot', refreshTray);
  monitor.on('delta', refreshTray);
  monitor.on('status', refreshTray);

  monitor.start();
  createWindow();
  app.on('activate', show);
});

app.on('window-all-closed', () => {
  if (!tray) app.quit();
});

// Stop the worker before leaving: no orphan threads, no half-written state.
app.on('before-quit', (event) => {
  if (quitting) return;
  quitting = true;
  event.preventDefault();
  // the history's last batch written and its lock released, the worker stopped
  void Promise.allSettled([engineApi.close(), monitor.stop()]).finally(() => {
    tray?.destroy();
    app.quit();
  });
});
