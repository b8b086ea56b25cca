import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { configFile, currentPlace, type UserPlace } from './configDir';
import { checkDirectoryChain, kindOf, lstatOrNull } from './safePath';

/**
 * The engine's settings that outlive a run (issue 14 left them in memory): alert mutes, the snooze, whether
 * loopback and first-contact alerts are on and the learning period, and whether the desktop app records the
 * history. One file per user beside the baseline (`$XDG_CONFIG_HOME/portwatch/settings.json`), read and written
 * with the baseline's distrust: never through a symbolic link, never a FIFO or another user's file, never one
 * that group or others may write, never in a directory that is a link or that others may write (safePath.ts);
 * written atomically. A file that fails any of this, or is not valid, is left exactly as it is and reported:
 * the defaults are used and nothing is written over it.
 */

export const SETTINGS_FILE = 'settings.json';
export const MAX_SETTINGS_BYTES = 64 << 10;

const Mute = z.union([z.strictObject({ process: z.string().min(1).max(256) }), z.strictObject({ port: z.number().int().min(0).max(65535) })]);

const Settings = z.strictObject({
  version: z.literal(1),
  alerts: z
    .strictObject({
      mutes: z.array(Mute).max(1000),
      snoozedUntil: z.number().int().nonnegative().nullable(),
      includeLoopback: z.boolean(),
      firstContact: z.boolean(),
      learningMs: z
        .number()
        .int()
        .min(3_600_000)
        .max(365 * 86_400_000),
    })
    .partial()
    .optional(),
  recordHistory: z.boolean().optional(),
});

export type SettingsFile = z.infer<typeof Settings>;

export type SettingsLoad = { ok: true; settings: SettingsFile; exists: boolean } | { ok: false; message: string };

/** The user's settings file: `$XDG_CONFIG_HOME/portwatch/settings.json` (the baseline's directory). */
export function defaultSettingsPath(place: UserPlace = currentPlace()): string {
  return configFile(place, SETTINGS_FILE);
}

/** Why a file or directory is not to be trusted, or null (a sticky ancestor such as /tmp is fine). */
function untrusted(st: Stats, path: string, kind: 'file' | 'ancestor' | 'directory'): string | null {
  const me = process.geteuid?.();
  if (me === undefined) return null;
  if (st.uid !== me && st.uid !== 0) return `${path} is owned by uid ${st.uid}, not by you (uid ${me}) or root, so that user could change your settings`;
  if ((st.mode & 0o022) !== 0 && !(kind === 'ancestor' && (st.mode & 0o1000) !== 0)) {
    return `${path} is writable by group or others (mode 0${(st.mode & 0o7777).toString(8)}): chmod go-w ${path}`;
  }
  return null;
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** Reads the settings; a missing file is the defaults (`exists: false`). Never follows a link or waits on a FIFO. */
export function loadSettings(path: string): SettingsLoad {
  const fail = (why: string): SettingsLoad => ({ ok: false, message: `cannot read the settings ${path}: ${why}; it is left as it is, the defaults are used` });
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true, settings: { version: 1 }, exists: false };
    return fail(code === 'ELOOP' ? 'it is a symbolic link, which Portwatch does not follow' : (code ?? 'cannot open it'));
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return fail(`it is ${kindOf(st)}, not a regular file`);
    const why = untrusted(st, path, 'file');
    if (why) return fail(why);
    const buf = Buffer.alloc(MAX_SETTINGS_BYTES + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n <= MAX_SETTINGS_BYTES; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    if (n > MAX_SETTINGS_BYTES) return fail(`it is larger than ${MAX_SETTINGS_BYTES} bytes`);
    text = buf.toString('utf8', 0, n);
  } catch (e) {
    return fail((e as NodeJS.ErrnoException).code ?? 'read failed');
  } finally {
    closeSync(fd);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('it is not JSON');
  }
  const parsed = Settings.safeParse(json);
  // the issues' paths and codes only: never the file's own text
  if (!parsed.success) return fail(`not Portwatch settings (${parsed.error.issues.map((i) => `${i.path.join('.') || 'top'}: ${i.code}`).join(', ')})`);
  return { ok: true, settings: parsed.data, exists: true };
}

/** Writes atomically (0600), creating missing directories 0700; refuses what loadSettings would distrust. */
export function writeSettings(path: string, settings: SettingsFile): void {
  const valid = Settings.parse(settings);
  const file = resolve(path);
  const dir = dirname(file);
  const bad = checkDirectoryChain(dir, true, 'Portwatch writes only into real directories (name the directory it points to)', (st, d, role) =>
    untrusted(st, d, role),
  );
  if (bad) throw new Error(`cannot write the settings ${file}: ${bad}`);
  const existing = lstatOrNull(file);
  if (existing?.isSymbolicLink()) throw new Error(`cannot write the settings ${file}: it is a symbolic link; Portwatch does not write through links`);
  if (existing && !existing.isFile()) throw new Error(`cannot write the settings ${file}: it is ${kindOf(existing)}, not a regular file`);
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.settings.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, JSON.stringify(valid, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
}
