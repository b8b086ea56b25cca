import { closeSync, constants, fstatSync, openSync, readSync, renameSync, type Stats } from 'node:fs';
import { dirname, posix, resolve, win32 } from 'node:path';
import { currentPlace, stateDir, type UserPlace } from '../configDir';
import { checkDirectoryChain, kindOf, lstatOrNull } from '../safePath';

/**
 * Where the history database lives and whether it may be opened. Portwatch records as root on servers, so a
 * database path is trusted only when nobody else could have put something there: every directory on the way is
 * a real directory (no symbolic link, which would let its owner choose where root writes), the user's or root's,
 * and not writable by others (the database's own directory not by group either); the database and the files
 * SQLite keeps beside it (-wal, -shm, -journal) and the lock file are absent or regular files of the user's,
 * never links or FIFOs. SQLite itself follows links, so these checks run before it opens anything.
 */

export const HISTORY_FILE = 'history.db';

/** The user's history database: `$XDG_STATE_HOME/portwatch/history.db` (default ~/.local/state/portwatch). */
export function defaultHistoryPath(place: UserPlace = currentPlace()): string {
  return (place.platform === 'win32' ? win32 : posix).join(stateDir(place), HISTORY_FILE);
}

/** SQLite's files beside the database, and Portwatch's lock file. */
export function companions(path: string): string[] {
  return [`${path}-wal`, `${path}-shm`, `${path}-journal`, `${path}.lock`];
}

export type PathCheck = { ok: true; exists: boolean } | { ok: false; message: string };

const me = (): number | undefined => process.geteuid?.();

/** Why a file or directory is not to be trusted, or null. `sticky`: an ancestor such as /tmp is fine. */
function untrusted(st: Stats, path: string, what: 'file' | 'ancestor' | 'directory'): string | null {
  const uid = me();
  if (uid === undefined) return null;
  if (st.uid !== uid && st.uid !== 0) {
    return `${path} is owned by uid ${st.uid}, not by you (uid ${uid}) or root: that user could change or replace the history; use a directory of your own (--db PATH)`;
  }
  const bits = what === 'directory' ? 0o022 : 0o002;
  const writable = what === 'file' ? (st.mode & 0o022) !== 0 : (st.mode & bits) !== 0 && !(what === 'ancestor' && (st.mode & 0o1000) !== 0);
  if (writable) {
    return `${path} is writable by ${what === 'ancestor' ? 'others' : 'group or others'} (mode 0${(st.mode & 0o7777).toString(8)}): they could replace the history or plant a link; chmod go-w ${path}`;
  }
  return null;
}

/** Every directory from $HOME (or /) down to `dir`, created 0700 when `create`; why not, or null. */
export function checkDirectory(dir: string, create: boolean): string | null {
  return checkDirectoryChain(dir, create, 'Portwatch keeps its history only in real directories (name the directory it points to)', (st, d, role) =>
    untrusted(st, d, role),
  );
}

/** One file of the database (or beside it): absent, or a regular file of the user's that others cannot write. */
function checkFile(path: string): string | null {
  let st: Stats | null;
  try {
    st = lstatOrNull(path);
  } catch (e) {
    return `${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  if (st === null) return null;
  if (st.isSymbolicLink())
    return `${path} is a symbolic link; Portwatch never writes its history through a link (remove it, or name the file itself with --db)`;
  if (!st.isFile()) return `${path} is ${kindOf(st)}, not a regular file`;
  return untrusted(st, path, 'file');
}

/**
 * Whether the database at `path` may be opened: its directory (created when `create`), the file and its
 * companions. `exists` says whether there is a database file.
 */
export function checkHistoryPath(path: string, create: boolean): PathCheck {
  const file = resolve(path);
  const bad = checkDirectory(dirname(file), create);
  if (bad) return { ok: false, message: `cannot use the history ${file}: ${bad}` };
  for (const f of [file, ...companions(file)]) {
    const why = checkFile(f);
    if (why) return { ok: false, message: `cannot use the history ${file}: ${why}` };
  }
  return { ok: true, exists: lstatOrNull(file) !== null };
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Whether the file starts as an SQLite database does (or is empty: SQLite makes a database of it). Read with
 * O_NOFOLLOW and O_NONBLOCK, so that a link or FIFO put there since the check is refused, never waited on.
 */
export function looksLikeSqlite(path: string): boolean {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    if (!fstatSync(fd).isFile()) return false;
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return n === 0 || (n === head.length && head.equals(SQLITE_MAGIC));
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves a database that cannot be read aside, with its -wal and -shm, as `<path>.corrupt-<time>`: nothing is
 * deleted or overwritten (the name is new each time). Returns the new name.
 */
export function moveAside(path: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = `${path}.corrupt-${stamp}`;
  for (const [from, to] of [
    [path, target],
    [`${path}-wal`, `${target}-wal`],
    [`${path}-shm`, `${target}-shm`],
  ] as const) {
    if (lstatOrNull(to) !== null) throw new Error(`cannot move ${from} aside: ${to} exists`);
    if (lstatOrNull(from) !== null) renameSync(from, to);
  }
  return target;
}
