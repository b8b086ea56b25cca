import type { Session } from 'electron';
import { APP_HOST, APP_SCHEME } from './protocol';

/** The one permission granted, and only to the app's own page: writing text to the clipboard (the row menu's copies). */
const CLIPBOARD_WRITE = 'clipboard-sanitized-write';

function isOwnPage(url: string | undefined): boolean {
  if (url === undefined) return false;
  try {
    // URL.origin is "null" for a scheme Node does not know: compare its parts
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/**
 * Denies every permission the page may check or request (camera, geolocation, notifications, HID, clipboard
 * reads, ...), but one: the app's own page (app://portwatch) may write text to the clipboard, which Chromium
 * allows any page in a browser anyway (on a user gesture). The window's notifications are raised by the main
 * process (Electron's Notification), which needs none: the renderer calls the web Notification API only in web
 * mode (`portwatch serve`), never in Electron.
 */
export function denyAllPermissions(session: Pick<Session, 'setPermissionCheckHandler' | 'setPermissionRequestHandler' | 'setDevicePermissionHandler'>): void {
  session.setPermissionCheckHandler((_wc, permission, requestingOrigin) => permission === CLIPBOARD_WRITE && isOwnPage(requestingOrigin));
  session.setPermissionRequestHandler((_wc, permission, callback, details) => callback(permission === CLIPBOARD_WRITE && isOwnPage(details?.requestingUrl)));
  session.setDevicePermissionHandler(() => false);
}
