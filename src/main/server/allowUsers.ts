import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parsePasswd } from '../engine';

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;

/**
 * `--allow-user` values (each repeatable, each a comma list) to uids: /etc/passwd first, then getent (LDAP,
 * sssd). Errors as values, naming the first name that is not a user.
 */
export function resolveUsers(values: readonly string[], passwdPath = '/etc/passwd'): { ok: true; uids: number[] } | { ok: false; message: string } {
  let byName: Map<string, number> | null = null;
  const uids: number[] = [];
  for (const name of values.flatMap((v) => v.split(',')).map((n) => n.trim())) {
    if (!NAME.test(name)) return { ok: false, message: `'${name}' is not a user name` };
    if (byName === null) {
      byName = new Map();
      try {
        for (const [uid, n] of parsePasswd(readFileSync(passwdPath, 'utf8'))) if (!byName.has(n)) byName.set(n, uid);
      } catch {
        // no passwd file: getent alone
      }
    }
    let uid = byName.get(name);
    if (uid === undefined) {
      try {
        const f = execFileSync('getent', ['passwd', name], { encoding: 'utf8', timeout: 1000, stdio: ['ignore', 'pipe', 'ignore'] }).split(':');
        if (f[0] === name && /^\d+$/.test(f[2] ?? '')) uid = Number(f[2]);
      } catch {
        uid = undefined;
      }
    }
    if (uid === undefined) return { ok: false, message: `no user named '${name}'` };
    uids.push(uid);
  }
  return { ok: true, uids };
}
