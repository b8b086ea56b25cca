import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';

/** node:child_process, required for a first getent: most listings find every uid in /etc/passwd, and loading it costs a few milliseconds of a CLI start. */
function childProcess(): typeof import('node:child_process') {
  return createRequire(__filename)('node:child_process') as typeof import('node:child_process');
}

/**
 * uid -> user name. Reads /etc/passwd (again only when it changes) and asks `getent` once for a uid it does
 * not list (LDAP, sssd), remembering the answer, found or not. `getent`: 'sync' waits for it (a worker thread or
 * a one-shot CLI may); 'background' never blocks (a host thread: the web server, the Electron main process):
 * the first answer for such a uid is null and the name is there once getent has answered; false never asks.
 */
export class UserDirectory {
  private byUid = new Map<number, string>();
  private looked = new Map<number, string | null>();
  private passwdMtime = -1;

  constructor(
    private readonly passwdPath = '/etc/passwd',
    private readonly getent: boolean | 'sync' | 'background' = 'sync',
  ) {}

  /** Call once per poll: re-reads the passwd file when its mtime moved. */
  refresh(): void {
    let mtime: number;
    try {
      mtime = statSync(this.passwdPath).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.passwdMtime) return;
    this.passwdMtime = mtime;
    this.byUid = parsePasswd(readFileSync(this.passwdPath, 'utf8'));
    this.looked.clear();
  }

  name(uid: number | null): string | null {
    if (uid === null) return null;
    if (this.passwdMtime === -1) this.refresh();
    const known = this.byUid.get(uid);
    if (known !== undefined) return known;
    if (this.looked.has(uid)) return this.looked.get(uid) ?? null;
    if (this.getent === 'background') {
      this.looked.set(uid, null);
      childProcess().execFile('getent', ['passwd', String(uid)], { encoding: 'utf8', timeout: 1000 }, (err, out) => {
        const name = err ? null : out.split(':')[0] || null;
        if (name !== null) this.looked.set(uid, name);
      });
      return null;
    }
    let found: string | null = null;
    if (this.getent === true || this.getent === 'sync') {
      try {
        const out = childProcess().execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8', timeout: 1000, stdio: ['ignore', 'pipe', 'ignore'] });
        found = out.split(':')[0] || null;
      } catch {
        found = null;
      }
    }
    this.looked.set(uid, found);
    return found;
  }
}

/** Parses passwd(5) text; malformed lines are skipped. */
export function parsePasswd(text: string): Map<number, string> {
  const map = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2] as string)) continue;
    const uid = Number(f[2]);
    if (!map.has(uid)) map.set(uid, f[0] as string);
  }
  return map;
}
