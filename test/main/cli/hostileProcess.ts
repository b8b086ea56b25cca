import { chmodSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_LISTENER, spawnReady, type Child } from '../../helpers/children';

export const isRoot = process.getuid?.() === 0;

/**
 * A process of user nobody, listening on 127.0.0.1, whose full process name is `name`: what an unprivileged
 * user can make root's Portwatch print. The kernel's comm is the executable's name cut to 15 characters, and
 * a cut comm is replaced by argv[0]'s base name when that starts with it (fullProcessName): so node runs
 * through a link named `name` (its comm: the first 15 characters) with argv[0] set to `name` (bash exec -a).
 * `name` needs 15 characters or more and no '/'.
 */
export async function hostileListener(name: string): Promise<Child & { port: number }> {
  if (name.length < 15 || name.includes('/')) throw new Error('the name needs 15+ characters and no slash');
  const dir = mkdtempSync(join(tmpdir(), 'pw-hostile-'));
  chmodSync(dir, 0o755);
  const link = join(dir, name);
  symlinkSync(process.execPath, link);
  const child = await spawnReady('setpriv', [
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    'bash',
    '-c',
    'exec -a "$0" "$1" -e "$2"',
    name,
    link,
    NODE_LISTENER,
  ]);
  const stop = child.stop;
  return {
    ...child,
    port: Number(child.firstLine),
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Erases the line, returns to its start, and prints a row of the attacker's choosing. */
export const FAKE_ROW = '\x1b[2K\rtcp  0.0.0.0:22  LISTEN  1  root  sshd';
/** 15+ characters, so argv[0] is the name; then the fake row, a bidi override, a C1 CSI and a bell. */
export const HOSTILE_NAME = `pwevilprocess1234${FAKE_ROW}\u202e\x9b31m\x07`;
/** HOSTILE_NAME as Portwatch prints it for a terminal. */
export const HOSTILE_ESCAPED = 'pwevilprocess1234\\e[2K\\rtcp  0.0.0.0:22  LISTEN  1  root  sshd\\u{202e}\\x9b31m\\x07';
/** What a terminal acts on: C0, DEL, C1, invisible formatting (bidi), line separators. Strip line ends first. */
export const TERMINAL_CONTROLS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
