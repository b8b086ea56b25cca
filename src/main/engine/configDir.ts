import { homedir, userInfo } from 'node:os';
import { posix, win32 } from 'node:path';

/**
 * Where Portwatch keeps a user's settings: one directory per user, shared by the desktop app and the CLI, in
 * the platform's place for them. Pure path arithmetic over what it is given, so every OS is testable on any.
 *
 * Not env-paths (3.0.0, installed only as electron's dependency): its config directory is ~/Library/Preferences
 * on macOS (Apple's place for preference plists, not Application Support) and %APPDATA%\<name>\Config on
 * Windows, it appends "-nodejs" on Linux unless told not to, it reads process.platform, the environment and the
 * home directory once at import (so other OSes cannot be tested), and it knows nothing of sudo. Only its
 * XDG rule would have been used; it is two lines.
 */

/** What the directory depends on: the OS, the environment and the home directory of the user it is for. */
export interface UserPlace {
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
  homedir: string;
}

/** The facts of a running process that currentPlace() reads (tests inject them). */
export interface ProcessFacts {
  platform: NodeJS.Platform;
  env: Readonly<Record<string, string | undefined>>;
  /** undefined on Windows. */
  euid: number | undefined;
  /** $HOME, else the passwd entry's (os.homedir()). */
  homedir: () => string;
  /** The passwd entry's home of the effective user, whatever $HOME says (os.userInfo().homedir). */
  passwdHome: () => string;
}

/** The directory's name where the OS capitalises application names (macOS, Windows); lower case on XDG. */
const APP_DIR = 'Portwatch';
const XDG_APP_DIR = 'portwatch';
/**
 * What Electron named the app's userData directory after: package.json's `name` (there is no `productName`).
 * Only to find the baseline that earlier desktop versions kept there.
 */
const ELECTRON_APP_NAME = 'portwatch';

const pathFor = (place: UserPlace): typeof posix => (place.platform === 'win32' ? win32 : posix);

/**
 * The user's Portwatch directory: `$XDG_CONFIG_HOME/portwatch` (default `~/.config/portwatch`) on Linux and
 * other Unixes, `~/Library/Application Support/Portwatch` on macOS, `%APPDATA%\Portwatch` on Windows. A relative
 * XDG_CONFIG_HOME or APPDATA is ignored, as the XDG spec says: it would name a different file in each directory.
 */
export function configDir(place: UserPlace): string {
  if (place.platform === 'darwin') return posix.join(place.homedir, 'Library', 'Application Support', APP_DIR);
  if (place.platform === 'win32') {
    const appData = place.env.APPDATA && win32.isAbsolute(place.env.APPDATA) ? place.env.APPDATA : win32.join(place.homedir, 'AppData', 'Roaming');
    return win32.join(appData, APP_DIR);
  }
  const xdg = place.env.XDG_CONFIG_HOME;
  return posix.join(xdg && posix.isAbsolute(xdg) ? xdg : posix.join(place.homedir, '.config'), XDG_APP_DIR);
}

/**
 * Where Portwatch keeps what it records for a user (the connection history): `$XDG_STATE_HOME/portwatch`
 * (default `~/.local/state/portwatch`) on Linux and other Unixes, as the XDG spec places state that should
 * survive a restart but is not configuration; `~/Library/Application Support/Portwatch` on macOS,
 * `%LOCALAPPDATA%\Portwatch` on Windows. A relative XDG_STATE_HOME or LOCALAPPDATA is ignored.
 */
export function stateDir(place: UserPlace): string {
  if (place.platform === 'darwin') return posix.join(place.homedir, 'Library', 'Application Support', APP_DIR);
  if (place.platform === 'win32') {
    const local = place.env.LOCALAPPDATA && win32.isAbsolute(place.env.LOCALAPPDATA) ? place.env.LOCALAPPDATA : win32.join(place.homedir, 'AppData', 'Local');
    return win32.join(local, APP_DIR);
  }
  const xdg = place.env.XDG_STATE_HOME;
  return posix.join(xdg && posix.isAbsolute(xdg) ? xdg : posix.join(place.homedir, '.local', 'state'), XDG_APP_DIR);
}

/** A file in the user's Portwatch directory. */
export function configFile(place: UserPlace, name: string): string {
  return pathFor(place).join(configDir(place), name);
}

/**
 * Where earlier versions kept a file of configDir(), other than where it is now: the CLI used
 * `$XDG_CONFIG_HOME/portwatch` (else `~/.config/portwatch`) on every OS; the desktop app its Electron userData
 * directory (`<appData>/portwatch`: XDG_CONFIG_HOME or ~/.config, ~/Library/Application Support, %APPDATA%).
 * On Linux both are today's directory, so there is nothing to list.
 */
export function legacyConfigFiles(place: UserPlace, name: string): string[] {
  const p = pathFor(place);
  const xdg = place.env.XDG_CONFIG_HOME;
  // the old CLI's rule: an XDG_CONFIG_HOME that starts with '/', else the home's .config (on Windows too)
  const cli = p.join(xdg && xdg.startsWith('/') ? xdg : p.join(place.homedir, '.config'), XDG_APP_DIR, name);
  const electronAppData =
    place.platform === 'darwin'
      ? posix.join(place.homedir, 'Library', 'Application Support')
      : place.platform === 'win32'
        ? (place.env.APPDATA ?? win32.join(place.homedir, 'AppData', 'Roaming'))
        : xdg && posix.isAbsolute(xdg)
          ? xdg
          : posix.join(place.homedir, '.config'); // a relative one is not looked for in the working directory
  const electron = p.join(electronAppData, ELECTRON_APP_NAME, name);
  const now = configFile(place, name);
  return [...new Set([cli, electron])].filter((f) => f !== now);
}

/**
 * This process's place. Run through sudo as another user (SUDO_UID is not the effective uid: `sudo portwatch`
 * as root, `sudo -u bob`), it is that user's own, from the passwd entry: sudo may keep the invoking user's HOME
 * or XDG_CONFIG_HOME, and a baseline in their directory is one they could change to decide what root's audit
 * expects (the file checks refuse it anyway, as another user's). Root's baseline is root's; `--baseline FILE`
 * names another.
 */
export function currentPlace(facts: ProcessFacts = processFacts()): UserPlace {
  const sudoUid = facts.env.SUDO_UID;
  const viaSudo = facts.euid !== undefined && sudoUid !== undefined && /^\d+$/.test(sudoUid) && Number(sudoUid) !== facts.euid;
  if (!viaSudo) return { platform: facts.platform, env: facts.env, homedir: facts.homedir() };
  let home: string;
  try {
    home = facts.passwdHome();
  } catch {
    home = facts.homedir(); // no passwd entry: what is left, and the file checks still hold
  }
  return { platform: facts.platform, env: { ...facts.env, HOME: home, XDG_CONFIG_HOME: undefined, XDG_STATE_HOME: undefined }, homedir: home };
}

function processFacts(): ProcessFacts {
  return { platform: process.platform, env: process.env, euid: process.geteuid?.(), homedir, passwdHome: () => userInfo().homedir };
}
