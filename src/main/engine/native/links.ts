import type * as fs from 'node:fs';
import type { socketLinkInode } from './libc';

/*
 * How a descriptor walk reads /proc/<pid>/fd, in any thread: through libc (koffi) where it loads, else node:fs.
 * Both are self-contained, so that a helper thread runs them from their source text (see sources/procfsWalk.ts
 * and fdWalker.ts), with koffi's path and socketLinkInode handed over the same way.
 */

/**
 * How a thread reads descriptors: `open` a table's directory (a handle, or null when it cannot: then `denied`
 * tells why), `link` one of its names: a socket's inode, or LINK_NOT_SOCKET, LINK_DENIED, LINK_GONE; `list` its names.
 */
export interface Links<H> {
  open(dir: string): H | null;
  link(handle: H, name: string): number;
  close(handle: H): void;
  list(dir: string): string[] | null;
  /** Whether the last failed open or list was EACCES/EPERM. */
  denied(): boolean;
}
/* What Links.link returns besides an inode: LINK_NOT_SOCKET -1, LINK_DENIED -2, LINK_GONE -3 (native/libc). */

/** Links through node:fs (the helper thread, and wherever koffi is missing): paths, readlinkSync. */
export function fsLinks(fsm: typeof fs): Links<string> {
  let denied = false;
  const failed = (e: unknown): boolean => {
    const code = (e as NodeJS.ErrnoException).code;
    denied = code === 'EACCES' || code === 'EPERM';
    return denied;
  };
  return {
    open: (dir) => `${dir}/`,
    link: (dir, name) => {
      try {
        const link = fsm.readlinkSync(dir + name);
        // "socket:[12345]"
        return link.charCodeAt(0) === 115 && link.startsWith('socket:[') ? Number(link.slice(8, -1)) : -1;
      } catch (e) {
        return failed(e) ? -2 : -3;
      }
    },
    close: () => undefined,
    list: (dir) => {
      try {
        return fsm.readdirSync(dir);
      } catch (e) {
        failed(e);
        return null;
      }
    },
    denied: () => denied,
  };
}

/**
 * Links through libc for a walk's helper thread, which loads koffi (`koffiPath`, as koffiModule() finds it) for
 * itself: readlinkat() of a name in an open table, as nativeLinks, a quarter cheaper than fsLinks. Self-contained
 * (the helper runs it from its source text, given socketLinkInode's); throws when koffi or libc cannot load.
 */
export function koffiLinks(koffiPath: string, fsm: typeof fs, inodeOf: typeof socketLinkInode): Links<number> {
  /* eslint-disable-next-line @typescript-eslint/no-require-imports */
  const koffi = require(koffiPath) as Pick<typeof import('koffi'), 'load' | 'errno'>;
  const lib = koffi.load('libc.so.6');
  const readlinkat = lib.func('intptr_t readlinkat(int, const char *, void *, uintptr_t)');
  const open = lib.func('int open(const char *, int)');
  const close = lib.func('int close(int)');
  const buf = Buffer.alloc(64);
  // EACCES 13, EPERM 1
  const refused = (): boolean => koffi.errno() === 13 || koffi.errno() === 1;
  let denied = false;
  return {
    open: (dir) => {
      const fd = open(dir, 0o200000 /* O_DIRECTORY */ | 0o2000000 /* O_CLOEXEC */) as number;
      if (fd >= 0) return fd;
      denied = refused();
      return null;
    },
    link: (dirfd, name) => {
      const n = Number(readlinkat(dirfd, name, buf, buf.length));
      if (n < 0) return refused() ? -2 : -3;
      return inodeOf(buf, n);
    },
    close: (dirfd) => void close(dirfd),
    list: (dir) => {
      try {
        return fsm.readdirSync(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        denied = code === 'EACCES' || code === 'EPERM';
        return null;
      }
    },
    denied: () => denied,
  };
}
