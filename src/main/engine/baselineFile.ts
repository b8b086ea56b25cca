import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { baselineVersion, BaselineRuleSchema, ruleKey, RULE_FIELDS, type Baseline, type BaselineRule } from '../../shared/baseline';
import { configFile, currentPlace, legacyConfigFiles, type UserPlace } from './configDir';
import { checkDirectoryChain, kindOf, lstatOrNull } from './safePath';

/**
 * The expected-ports baseline as a settings file: JSON a person can read and edit, validated on load, written
 * atomically (a temporary file in the same directory, fsync, rename), and never overwritten while broken.
 *
 * Portwatch may run as root while other users share the machine, and the file decides which listeners count
 * as expected, so it is read only when nobody else could have written it: a regular file (never through a
 * symbolic link, never a FIFO or device, which could block or have side effects), owned by the user running
 * Portwatch or root, not writable by group or others, at most 1 MiB. It is written only into directories that
 * pass the same test. An error never quotes the file: it may be a secret someone pointed it at.
 */

/**
 * A version 1 file knows no `ports`; version 2 adds it. The rule's checks (at least one field to match, a range
 * that parses, never port and ports together) are shared with the API: shared/baseline.ts.
 */
const FILE_FIELDS = { version: z.union([z.literal(1), z.literal(2)]), rules: z.array(BaselineRuleSchema).max(10_000) };
const File = z.strictObject(FILE_FIELDS).superRefine((f, ctx) => {
  if (f.version !== 1) return;
  f.rules.forEach((r, i) => {
    if (r.ports !== undefined) ctx.addIssue({ code: 'custom', path: ['rules', i, 'ports'], message: 'a range of ports needs "version": 2' });
  });
});

/** A baseline a person wrote is a few kilobytes; reading stops here. */
export const MAX_BASELINE_BYTES = 1 << 20;

export type BaselineLoad = { ok: true; baseline: Baseline; exists: boolean } | { ok: false; message: string };

const BASELINE_NAME = 'baseline.json';

/**
 * The user's baseline, one for the desktop app, `portwatch audit` and `portwatch serve`: baseline.json in the
 * platform's config directory (configDir.ts). This only names it; userBaselinePath() also migrates old ones.
 */
export function defaultBaselinePath(place: UserPlace = currentPlace()): string {
  return configFile(place, BASELINE_NAME);
}

/**
 * defaultBaselinePath(), after merging into it, once, the baselines earlier versions kept elsewhere (the CLI's
 * ~/.config/portwatch on every OS, the desktop app's Electron userData directory, and `legacy`: the app passes
 * its own userData file). `log` gets one line per old file: merged, or why not.
 */
export function userBaselinePath(log: (line: string) => void, opts: { place?: UserPlace; legacy?: readonly string[] } = {}): string {
  const place = opts.place ?? currentPlace();
  const path = defaultBaselinePath(place);
  migrateBaseline(path, [...legacyConfigFiles(place, BASELINE_NAME), ...(opts.legacy ?? [])], log);
  return path;
}

export type Migration =
  /** Merged before: the marker file (`<path>.migrated`) is there. Delete it to merge again. */
  | { result: 'done-before' }
  /** Every file of `merged` (the others were missing or refused) is in `path` now; the marker records it. */
  | { result: 'merged'; merged: string[]; refused: string[] }
  /** Nothing merged: no old file there, only refused ones (tried again next time), or `path` is broken or unwritable. */
  | { result: 'nothing'; refused: string[] };

/**
 * Merges the rules of old baseline files into `path` (skipping rules it has), then writes `<path>.migrated` so
 * it never happens twice: a rule deleted from `path` later stays deleted. Every old file is read through
 * loadBaseline's checks; one that fails them is reported, left as it is and not merged (nor is it marked: while
 * nothing was merged, it is tried again). The old files are never changed: nothing is lost. Files that are
 * `path` itself (a case-insensitive file system: ~/Library/Application Support/portwatch) are skipped.
 */
export function migrateBaseline(path: string, olds: readonly string[], log: (line: string) => void): Migration {
  const marker = `${path}.migrated`;
  if (existsOrUnknown(marker)) return { result: 'done-before' };
  const here = resolve(path);
  const found: Array<{ path: string; rules: BaselineRule[] }> = [];
  const refused: string[] = [];
  for (const old of new Set(olds.map((o) => resolve(o)))) {
    if (old === here || sameFile(old, here)) continue;
    const r = loadBaseline(old);
    if (r.ok && !r.exists) continue;
    if (r.ok) {
      found.push({ path: old, rules: r.baseline.rules });
      continue;
    }
    refused.push(old);
    log(`did not merge an old baseline: ${r.message}; it is left as it is: once fixed, copy its rules into ${path}`);
  }
  if (found.length === 0) return { result: 'nothing', refused };
  const current = loadBaseline(path);
  if (!current.ok) {
    log(
      `did not merge the old baseline${found.length === 1 ? '' : 's'} ${found.map((f) => f.path).join(', ')}: ${current.message}; every file is left as it is`,
    );
    return { result: 'nothing', refused };
  }
  let rules = current.baseline.rules;
  const added: number[] = [];
  for (const f of found) {
    const before = rules.length;
    rules = mergeRules(rules, f.rules);
    added.push(rules.length - before);
  }
  try {
    if (!current.exists || rules.length > current.baseline.rules.length) writeBaselineFile(path, { version: baselineVersion(rules), rules });
    writeMarker(
      marker,
      found.map((f) => f.path),
    );
  } catch (e) {
    log(
      `did not merge the old baseline${found.length === 1 ? '' : 's'} ${found.map((f) => f.path).join(', ')}: ${(e as Error).message}; every file is left as it is`,
    );
    return { result: 'nothing', refused };
  }
  found.forEach((f, i) =>
    log(
      `merged the old baseline ${f.path} into ${path} (${added[i]} of ${f.rules.length} rule${f.rules.length === 1 ? '' : 's'} new); the old file is left in place and no longer read`,
    ),
  );
  return { result: 'merged', merged: found.map((f) => f.path), refused };
}

/** `base` and then the rules of `more` it does not have yet (a rule is its match fields; the note is not). */
function mergeRules(base: readonly BaselineRule[], more: readonly BaselineRule[]): BaselineRule[] {
  const have = new Set(base.map(ruleKey));
  const merged = [...base];
  for (const r of more) {
    if (have.has(ruleKey(r))) continue;
    have.add(ruleKey(r));
    merged.push(r);
  }
  return merged;
}

/**
 * Reads and validates the file. A missing file is an empty baseline (`exists: false`); anything else that is
 * not a trustworthy, valid baseline is `ok: false` with a message that says what to fix and never quotes it.
 * Never blocks: a FIFO or device in its place is refused without waiting for a writer.
 */
export function loadBaseline(path: string): BaselineLoad {
  const read = readTrusted(path);
  if (!read.ok) return read;
  if (read.text === null) return { ok: true, baseline: { version: 1, rules: [] }, exists: false };
  let json: unknown;
  try {
    json = JSON.parse(read.text);
  } catch {
    // V8's message quotes the text around the error: say where it is instead
    const at = jsonErrorOffset(read.text);
    return { ok: false, message: `${path} is not valid JSON${at === null ? '' : ` (${lineColumn(read.text, at)})`}` };
  }
  const parsed = File.safeParse(json);
  if (!parsed.success) return { ok: false, message: `${path} is not a Portwatch baseline: ${describeIssues(parsed.error)}` };
  return { ok: true, baseline: parsed.data as Baseline, exists: true };
}

/**
 * Writes atomically: readers see the old file or the new one, never half of one. Creates missing directories
 * (0700) and refuses, with an Error that names the fix, a directory on the way that is a symbolic link, is
 * another user's or that others may write, and a symbolic link or non-file in the file's place.
 */
export function writeBaselineFile(path: string, baseline: Baseline): void {
  const valid = File.safeParse(baseline);
  if (!valid.success) throw new Error(`cannot write ${path}: not a Portwatch baseline: ${describeIssues(valid.error)}`);
  const fail = (why: string): never => {
    throw new Error(`cannot write ${path}: ${why}`);
  };
  const file = resolve(path);
  const dir = dirname(file);
  const bad = safeDirectory(dir);
  if (bad) fail(bad);
  const existing = lstatOrNull(file);
  if (existing?.isSymbolicLink()) fail('it is a symbolic link; Portwatch does not write through links (remove the link, or name the file it points to)');
  if (existing && !existing.isFile()) fail(`it is ${kindOf(existing)}, not a regular file`);
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.baseline.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    writeSync(fd, JSON.stringify(valid.data, null, 2) + '\n');
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

/**
 * The baseline of a running app: loaded once, changed only through add(), which
 * refuses to touch a broken file (the user's edits are kept; the error says what to fix).
 */
export class BaselineStore {
  private state: BaselineLoad;

  constructor(readonly path: string) {
    this.state = loadBaseline(path);
  }

  current(): BaselineLoad {
    return this.state;
  }

  rules(): BaselineRule[] {
    return this.state.ok ? this.state.baseline.rules : [];
  }

  /** Adds rules (skipping ones already there) and writes the file. */
  add(rules: BaselineRule[]): BaselineLoad {
    return this.change((current) => mergeRules(current, rules));
  }

  /**
   * Replaces the rule that is `old` (same match fields and note) by `next`, or removes it (`next` null), and
   * writes the file. Throws when no rule is `old` any more (the file changed meanwhile): nothing is written.
   */
  replace(old: BaselineRule, next: BaselineRule | null): BaselineLoad {
    const same = (r: BaselineRule): boolean => ruleKey(r) === ruleKey(old) && r.note === old.note;
    return this.change((current) => {
      const i = current.findIndex(same);
      if (i < 0) throw new Error('that rule is no longer in the file (it changed meanwhile): nothing was changed');
      const rest = current.filter((_, j) => j !== i);
      if (next === null) return rest;
      // an edit that makes it the same as another rule leaves one of them
      return rest.some((r) => ruleKey(r) === ruleKey(next)) ? rest : [...current.slice(0, i), next, ...current.slice(i + 1)];
    });
  }

  /** Reads the file again (someone may have edited it by hand), changes its rules and writes it. */
  private change(f: (rules: BaselineRule[]) => BaselineRule[]): BaselineLoad {
    const fresh = loadBaseline(this.path);
    if (!fresh.ok) {
      this.state = fresh;
      throw new Error(`${fresh.message}; fix or remove the file, it is kept as it is`);
    }
    const rules = f(fresh.baseline.rules);
    const baseline: Baseline = { version: baselineVersion(rules), rules };
    writeBaselineFile(this.path, baseline);
    this.state = { ok: true, baseline, exists: true };
    return this.state;
  }
}

// --- reading without trusting ---

type TrustedRead = { ok: true; text: string | null } | { ok: false; message: string };

/** O_NOFOLLOW: a link is ELOOP, never followed. O_NONBLOCK: a FIFO opens at once. O_NOCTTY: a tty stays not ours. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** The file's text (null when there is none), read only from a regular file nobody else could have written. */
function readTrusted(path: string): TrustedRead {
  const fail = (why: string): TrustedRead => ({ ok: false, message: `cannot read ${path}: ${why}` });
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true, text: null };
    if (code === 'ELOOP') return fail('it is a symbolic link; Portwatch does not follow links to its baseline (name the file itself)');
    if (code === 'ENXIO') return fail('it is a socket, not a regular file');
    return fail(code === 'EACCES' ? 'permission denied' : (code ?? 'cannot open it'));
  }
  try {
    // fstat, not stat: the checks hold for the very file that is read
    const st = fstatSync(fd);
    if (!st.isFile()) return fail(`it is ${kindOf(st)}, not a regular file`);
    const distrust = untrusted(st, 'it', path, 'file');
    if (distrust) return fail(distrust);
    if (st.size > MAX_BASELINE_BYTES) return fail(`it is larger than 1 MiB (${st.size} bytes), too large for a baseline`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(64 << 10, MAX_BASELINE_BYTES + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > MAX_BASELINE_BYTES) return fail('it is larger than 1 MiB (it grew while read), too large for a baseline');
    }
    return { ok: true, text: Buffer.concat(chunks, total).toString('utf8') };
  } catch (e) {
    return fail((e as NodeJS.ErrnoException).code ?? 'read failed');
  } finally {
    closeSync(fd);
  }
}

/**
 * Why a file or directory must not be trusted, or null: owned by someone other than the user running Portwatch
 * and root, or writable by group or others (a sticky directory such as /tmp is fine above the one written
 * into: others cannot rename what is ours in it). No POSIX owners (Windows): nothing to check.
 */
function untrusted(st: Stats, subject: string, path: string, kind: 'file' | 'ancestor' | 'directory'): string | null {
  const me = process.geteuid?.();
  if (me === undefined) return null;
  if (st.uid !== me && st.uid !== 0) {
    const fix =
      kind === 'file'
        ? `chown ${me} ${path} if you trust it, or use another file`
        : `write the baseline into a directory of your own (or chown ${me} ${path}, if it should be yours)`;
    return `${subject} is owned by uid ${st.uid}, not by you (uid ${me}) or root, so that user could decide what counts as expected: ${fix}`;
  }
  if ((st.mode & 0o022) !== 0 && !(kind === 'ancestor' && (st.mode & 0o1000) !== 0)) {
    return `${subject} is writable by group or others (mode 0${(st.mode & 0o7777).toString(8)}), so they could decide what counts as expected: chmod go-w ${path}`;
  }
  return null;
}

/** Does something (a link, anything) stand at `path`? An error other than "no such file" counts as yes. */
function existsOrUnknown(path: string): boolean {
  try {
    return lstatOrNull(path) !== null;
  } catch {
    return true;
  }
}

/** Are these two names one file (a case-insensitive file system, a hard link)? Neither is followed if a link. */
function sameFile(a: string, b: string): boolean {
  try {
    const x = lstatOrNull(a);
    const y = lstatOrNull(b);
    return x !== null && y !== null && x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

// --- writing only where nobody else can redirect it ---

/** The migration's marker: created, never replaced, in a directory that passes safeDirectory(); says what it means. */
function writeMarker(marker: string, merged: readonly string[]): void {
  const bad = safeDirectory(dirname(resolve(marker)));
  if (bad) throw new Error(`cannot write ${marker}: ${bad}`);
  let fd: number;
  try {
    fd = openSync(marker, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return; // another Portwatch merged them at the same time
    throw e;
  }
  try {
    const names = merged.map((m) => `  ${m}\n`).join('');
    writeSync(
      fd,
      `Portwatch merged these old baselines into ${marker.slice(0, -'.migrated'.length)}, once; it no longer reads them:\n${names}Delete this file to merge them again.\n`,
    );
  } finally {
    closeSync(fd);
  }
}

/**
 * Every directory from $HOME (or /) down to `dir`, created 0700 where missing: none a symbolic link (that would
 * let its owner choose where root writes), each the user's or root's and not writable by others.
 */
function safeDirectory(dir: string): string | null {
  return checkDirectoryChain(
    dir,
    true,
    'Portwatch writes only into real directories, so that a link cannot send it elsewhere (name the directory it points to)',
    (st, d, role) => untrusted(st, d, d, role),
  );
}

// --- errors that never quote the file ---

/** rules[3].port: the path through our own schema (unknown keys are never descended into, so never named). */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** zod's messages for these name the expected type, bound or options, never the value found. */
const SAFE_CODES = new Set(['invalid_type', 'too_big', 'too_small', 'invalid_value', 'custom']);

function describeIssues(error: z.ZodError): string {
  const texts = error.issues.slice(0, 5).map((issue) => {
    const where = issue.path.length === 0 ? 'the file' : pathText(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const allowed = Object.keys(issue.path.length === 0 ? FILE_FIELDS : RULE_FIELDS);
      return `${where} has a field Portwatch does not know (allowed: ${allowed.join(', ')})`;
    }
    return `${where}: ${SAFE_CODES.has(issue.code) ? issue.message : 'not a valid value'}`;
  });
  const more = error.issues.length - texts.length;
  return texts.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/** "line 3, column 7", 1-based, of a UTF-16 offset; "it ends too soon" when the offset is the end. */
function lineColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return `line ${line}, column ${offset - start + 1}${offset === text.length ? ': it ends too soon' : ''}`;
}

const WS = /[ \t\n\r]*/y;
// eslint-disable-next-line no-control-regex -- RFC 8259 forbids exactly U+0000-U+001F raw in a string
const STRING = /"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const SCALAR = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/**
 * Where text stops being JSON (RFC 8259): the offset of the first character that cannot continue it, its
 * length when it ends too soon, or null when it is valid. For error messages: JSON.parse's quote the text.
 * Iterative (an explicit stack), so deep nesting cannot overflow.
 */
export function jsonErrorOffset(text: string): number | null {
  let i = 0;
  const stack: string[] = [];
  const skip = (): void => {
    WS.lastIndex = i;
    WS.exec(text);
    i = WS.lastIndex;
  };
  const token = (re: RegExp): boolean => {
    re.lastIndex = i;
    if (!re.test(text)) return false;
    i = re.lastIndex;
    return true;
  };
  /** A key and its colon, after '{' or a ',' inside an object. */
  const key = (): boolean => {
    skip();
    if (!token(STRING)) return false;
    skip();
    if (text[i] !== ':') return false;
    i++;
    return true;
  };
  let wantValue = true;
  for (;;) {
    skip();
    if (wantValue) {
      const c = text[i];
      if (c === '{' || c === '[') {
        i++;
        skip();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          wantValue = false;
          continue;
        }
        stack.push(c);
        if (c === '{' && !key()) return i;
        continue;
      }
      if (!(c === '"' ? token(STRING) : token(SCALAR))) return i;
      wantValue = false;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return i === text.length ? null : i;
    const c = text[i];
    if (c === ',') {
      i++;
      if (top === '{' && !key()) return i;
      wantValue = true;
    } else if (c === (top === '{' ? '}' : ']')) {
      i++;
      stack.pop();
    } else {
      return i;
    }
  }
}
