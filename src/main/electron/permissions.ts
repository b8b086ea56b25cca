import type { Session } from 'electron';

/**
 * Denies every permission the page may check or request (camera, geolocation, notifications, HID, ...). The
 * window's notifications are raised by the main process (Electron's Notification), which needs none: the
 * renderer calls the web Notification API only in web mode (`portwatch serve`), never in Electron.
 */
export function denyAllPermissions(session: Pick<Session, 'setPermissionCheckHandler' | 'setPermissionRequestHandler' | 'setDevicePermissionHandler'>): void {
  session.setPermissionCheckHandler(() => false);
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setDevicePermissionHandler(() => false);
}
