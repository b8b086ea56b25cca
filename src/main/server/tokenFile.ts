import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * `serve --token-file PATH`: the token kept across restarts, so that open tabs reconnect. The file is the
 * credential to a server that runs as root and kills processes, so it is read only when nobody else could
 * have read or replaced it: a regular file (not a symbolic link, opened with O_NOFOLLOW), owned by this
 * user, with no group or other permission bits. A missing file is created 0600 with a new random token.
 */

export type TokenFileResult = { ok: true; token: string; created: boolean } | { ok: false; message: string };

/** What a token looks like: base64url, long enough to guess never. */
const TOKEN = /^[A-Za-z0-9_-]{22,256}$/;

/** A new random per-run token. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/** Reads the token kept in `path`, or creates the file (0600) with a new one; errors as values. */
export function loadTokenFile(path: string): TokenFileResult {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const token = newToken();
      writeSync(fd, `${token}\n`);
      return { ok: true, token, created: true };
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (code(e) !== 'EEXIST') return { ok: false, message: `cannot create the token file ${path}: ${(e as Error).message}` };
  }
  // lstat first: O_NOFOLLOW alone reports a symbolic link as ELOOP, which reads like a different problem
  try {
    if (lstatSync(path).isSymbolicLink()) return { ok: false, message: `the token file ${path} is a symbolic link: give the file itself` };
  } catch (e) {
    return { ok: false, message: `cannot read the token file ${path}: ${(e as Error).message}` };
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    return { ok: false, message: `cannot read the token file ${path}: ${(e as Error).message}` };
  }
  try {
    // checked on the open file, not the name: what is checked is what is read
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, message: `the token file ${path} is not a regular file` };
    if (process.getuid && st.uid !== process.getuid()) return { ok: false, message: `the token file ${path} belongs to another user (uid ${st.uid})` };
    if ((st.mode & 0o077) !== 0) {
      return {
        ok: false,
        message: `the token file ${path} is open to group or others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it, or delete it for a new token`,
      };
    }
    const buf = Buffer.alloc(512);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const token = buf.subarray(0, n).toString('utf8').trim();
    if (!TOKEN.test(token))
      return { ok: false, message: `the token file ${path} does not hold a token (22 to 256 characters of A-Z a-z 0-9 - _): delete it for a new one` };
    return { ok: true, token, created: false };
  } finally {
    closeSync(fd);
  }
}
