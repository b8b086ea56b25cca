import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from '../../shared/didYouMean';
import { bundlePath } from '../engine/bundles';
import { SOURCE_CHOICES, type SourceChoice } from '../engine/sources';
import type { Query } from '../../shared/query/core';
import { parseFilterFlag, type SocketFilter } from './filter';
import { inert } from './format';

/*
 * What every command shares: the I/O it is given, flag parsing and validation, and how a failure is reported.
 * Small on purpose: the `list` bundle (list.ts -> out/node/cli-list.cjs) is built from this and list.ts alone.
 */

/** A usage error: printed with a hint, exit code 2. */
export class UsageError extends Error {}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Resolves when the user interrupts (SIGINT/SIGTERM); `watch` runs until then. */
  interrupted: Promise<void>;
  /** Colour the output (`watch`'s lines): stdout is a terminal and NO_COLOR is not set. */
  colour?: boolean;
  /** The monitor worker `watch` and `serve` start; the worker bundle (bundlePath('worker')) unless given. */
  workerPath?: string;
}

/** The commands, as `portwatch <command>` names them. */
export const COMMANDS: readonly string[] = ['list', 'watch', 'serve', 'audit', 'kill', 'top', 'record', 'history'];

export const FILTER_OPTIONS = {
  listen: { type: 'boolean' },
  exposed: { type: 'boolean' },
  tcp: { type: 'boolean' },
  udp: { type: 'boolean' },
  ipv4: { type: 'boolean', short: '4' },
  ipv6: { type: 'boolean', short: '6' },
  pid: { type: 'string' },
  port: { type: 'string' },
  filter: { type: 'string' },
  source: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Options = NonNullable<ParseArgsConfig['options']>;
/** The flags' values as parseArgs types them for `options`. */
export type FlagValues<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'];

/** Strict flags, no positionals; parseArgs' complaint becomes a UsageError that names the command. */
export function parse<O extends Options>(command: string, args: string[], options: O): FlagValues<O> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw flagError(command, e, options);
  }
}

/**
 * parseArgs' complaint as a UsageError that names the command, with a "did you mean" for an unknown flag
 * (`--listn`: `--listen`), or the hint `hints` gives for it (`-x`: what ss means by it and why it is not here).
 */
export function flagError(command: string, e: unknown, options: Options, hints: Readonly<Record<string, string>> = {}): UsageError {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\. To specify a positional.*$/s, '');
  const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
  let hint = '';
  if (unknown !== undefined) {
    const flag = unknown.replace(/=.*$/s, '');
    // a mistyped long flag has a nearest one; a one-letter flag has no "near" letter worth guessing
    const near =
      !flag.startsWith('--') || Object.hasOwn(hints, flag)
        ? null
        : didYouMean(
            flag,
            Object.keys(options).map((name) => `--${name}`),
          );
    hint = Object.hasOwn(hints, flag) ? `: ${hints[flag]}` : near === null ? '' : ` (did you mean '${near}'?)`;
  }
  return new UsageError(`portwatch ${command}: ${inert(message)}${hint}`);
}

/** The si-child bundle, which runs systeminformation in a killable child. */
export function siHelper(): string {
  return bundlePath('si-child');
}

/** The kernel's ceiling for pid_max (PID_MAX_LIMIT on 64-bit). */
export const PID_MAX = 2 ** 22;

/** A whole-number flag in [min, max]; undefined when not given. */
export function intFlag(command: string, name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`portwatch ${command}: --${name} must be a whole number from ${min} to ${max}, got '${value}'`);
  }
  return Number(value);
}

export function sourceFlag(command: string, value: string | undefined): SourceChoice {
  if (value === undefined) return 'auto';
  const choice = SOURCE_CHOICES.find((c) => c === value);
  if (choice) return choice;
  throw new UsageError(`portwatch ${command}: --source must be ${SOURCE_CHOICES.join(', ')}, got '${value}'`);
}

/**
 * The filter flags (FILTER_OPTIONS) as a SocketFilter, validated. `words`: a query given as trailing words
 * (`list -t state established`, as ss takes its filter), joined by spaces; with --filter, both must match.
 */
export function filterFrom(command: string, v: Record<string, string | boolean | undefined>, words: readonly string[] = []): SocketFilter {
  const queries: Query[] = [];
  const texts: Array<[string, string]> = [];
  if (typeof v.filter === 'string') texts.push(['--filter', v.filter]);
  if (words.length > 0) texts.push([`filter ${inert(JSON.stringify(words.join(' ')))}`, words.join(' ')]);
  for (const [what, text] of texts) {
    const q = parseFilterFlag(command, text, what);
    if (!q.ok) throw new UsageError(q.message);
    queries.push(q.query);
  }
  return {
    queries,
    exposed: v.exposed === true,
    listening: v.listen === true,
    tcp: v.tcp === true,
    udp: v.udp === true,
    ipv4: v.ipv4 === true,
    ipv6: v.ipv6 === true,
    pid: intFlag(command, 'pid', v.pid as string | undefined, 1, PID_MAX),
    port: intFlag(command, 'port', v.port as string | undefined, 0, 65535),
  };
}

/**
 * What a command that threw prints, and its exit code: a usage error with the hint to the right --help (2),
 * anything else as one line (1). `command` is argv[0] as given.
 */
export function reportFailure(e: unknown, command: string | undefined, io: CliIo): number {
  if (e instanceof UsageError) {
    const named = command !== undefined && !command.startsWith('-') && COMMANDS.includes(command);
    io.err(`${e.message}\nRun 'portwatch ${named ? `${command} ` : ''}--help' for usage.\n`);
    return 2;
  }
  io.err(`portwatch: ${inert(e instanceof Error ? e.message : String(e))}\n`);
  return 1;
}
