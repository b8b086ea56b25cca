import type { BrowserWindowConstructorOptions, WebContents } from 'electron';

/** Hosts whose pages may be opened in the user's browser from the app (documentation, the project). */
export const EXTERNAL_ALLOWLIST: readonly string[] = ['https://github.com', 'https://www.iana.org', 'https://man7.org'];

/** True for an https URL on an allowlisted host (exactly, or a subdomain of it). */
export function isAllowedExternal(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' || u.username || u.password) return false;
  return EXTERNAL_ALLOWLIST.some((allowed) => {
    const host = new URL(allowed).host;
    return u.host === host || u.host.endsWith(`.${host}`);
  });
}

export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1200,
    height: 800,
    minWidth: 640,
    minHeight: 400,
    show: false,
    title: 'Portwatch',
    backgroundColor: '#1b1d21',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}

/**
 * Denies every navigation away from the app and every new window; an allowlisted external link goes to the
 * user's browser instead.
 */
export function hardenWebContents(contents: WebContents, openExternal: (url: string) => Promise<void>): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url)) void openExternal(url);
    return { action: 'deny' };
  });
}

/**
 * Reloads a window whose renderer died (crash, OOM kill), at most `max` times a minute: a renderer that
 * keeps dying is left dead rather than reloaded in a loop. Returns the handler for 'render-process-gone'.
 */
export function reloadOnCrash(reload: () => void, now: () => number = Date.now, max = 3): (reason: string) => boolean {
  const recent: number[] = [];
  return (reason) => {
    if (reason === 'clean-exit') return false;
    const t = now();
    while (recent.length && t - (recent[0] as number) >= 60_000) recent.shift();
    if (recent.length >= max) return false;
    recent.push(t);
    reload();
    return true;
  };
}
