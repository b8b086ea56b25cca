import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Baseline, BaselineRule } from '../../shared/baseline';

/**
 * The expected-ports baseline as a settings file: JSON a person can read and edit, validated on load, written
 * atomically (a temporary file in the same directory, fsync, rename), and never overwritten while broken.
 */

const Rule = z.strictObject({
  process: z.string().min(1).max(256).optional(),
  exe: z.string().min(1).max(4096).optional(),
  protocol: z.enum(['tcp', 'udp']).optional(),
  port: z.number().int().min(0).max(65535).optional(),
  exposure: z.enum(['all', 'interface', 'loopback']).optional(),
  note: z.string().max(1000).optional(),
});
const File = z.strictObject({ version: z.literal(1), rules: z.array(Rule).max(10_000) });

export type BaselineLoad =
  | { ok: true; baseline: Baseline; exists: boolean }
  | { ok: false; message: string };

/** Where the CLI and web mode keep it: $XDG_CONFIG_HOME/portwatch/baseline.json (~/.config by default). */
export function defaultBaselinePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'portwatch', 'baseline.json');
}

export function loadBaseline(path: string): BaselineLoad {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, baseline: { version: 1, rules: [] }, exists: false };
    return { ok: false, message: `cannot read ${path}: ${(e as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `${path} is not valid JSON: ${(e as Error).message}` };
  }
  const parsed = File.safeParse(json);
  if (!parsed.success) return { ok: false, message: `${path} is not a Portwatch baseline: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}` };
  return { ok: true, baseline: parsed.data as Baseline, exists: true };
}

/** Writes atomically: readers see the old file or the new one, never half of one. */
export function writeBaselineFile(path: string, baseline: Baseline): void {
  const valid = File.parse(baseline);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.baseline.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, JSON.stringify(valid, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
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
    const fresh = loadBaseline(this.path); // someone may have edited it by hand meanwhile
    if (!fresh.ok) {
      this.state = fresh;
      throw new Error(`${fresh.message}; fix or remove the file, it is kept as it is`);
    }
    const key = (r: BaselineRule): string => JSON.stringify([r.process, r.exe, r.protocol, r.port, r.exposure]);
    const have = new Set(fresh.baseline.rules.map(key));
    const merged = [...fresh.baseline.rules];
    for (const r of rules) {
      if (have.has(key(r))) continue;
      have.add(key(r));
      merged.push(r);
    }
    writeBaselineFile(this.path, { version: 1, rules: merged });
    this.state = { ok: true, baseline: { version: 1, rules: merged }, exists: true };
    return this.state;
  }
}
