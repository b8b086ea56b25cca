import { lstatSync, mkdirSync, statSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, parse, resolve, sep } from 'node:path';

/*
 * The hostile-path checks that every file Portwatch keeps for a user goes through (the baseline, the history):
 * never through a link, never in a directory someone else may write. Each caller says what trust means for it
 * (`judge`) and words its own advice; the walk is here once.
 */

/** lstat, or null when nothing is there; other errors throw. */
export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** What a non-regular file is, for messages. */
export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'something other than a file';
}

/**
 * Checks, top down, every directory from $HOME (when `dir` is inside it; else from /) to `dir`, creating the
 * missing ones 0700 when `create` (only inside one already found safe, since the walk is top down). None may be
 * a symbolic link (`linkAdvice` says what to do instead), $HOME itself excepted (set up by the administrator);
 * each must pass `judge` (`dir` itself as 'directory', those above it as 'ancestor'). Why not, or null.
 */
export function checkDirectoryChain(
  dir: string,
  create: boolean,
  linkAdvice: string,
  judge: (st: Stats, path: string, role: 'directory' | 'ancestor') => string | null,
): string | null {
  const home = homedir();
  const inHome = isAbsolute(home) && (dir === home || dir.startsWith(home.endsWith(sep) ? home : home + sep));
  const top = inHome ? resolve(home) : parse(dir).root;
  const chain: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    chain.unshift(d);
    if (d === top || dirname(d) === d) break;
  }
  for (const d of chain) {
    let st: Stats | null;
    try {
      st = d === top && inHome ? statSync(d) : lstatOrNull(d);
      if (st === null) {
        if (!create) return `${d} does not exist`;
        try {
          mkdirSync(d, { mode: 0o700 });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        st = lstatSync(d);
      }
    } catch (e) {
      return `${d}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
    }
    if (st.isSymbolicLink()) return `${d} is a symbolic link; ${linkAdvice}`;
    if (!st.isDirectory()) return `${d} is ${kindOf(st)}, not a directory`;
    const why = judge(st, d, d === dir ? 'directory' : 'ancestor');
    if (why) return why;
  }
  return null;
}
