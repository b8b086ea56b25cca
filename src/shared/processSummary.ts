import type { ProcessInfo } from './model';

/*
 * Processes named the way people think of them: `python3 sneaky.py`, `node server.js`, `java -jar app.jar`,
 * `python3 -m http.server`, not five rows of "python3". Pure; the text comes from another user's command line,
 * so a terminal gets it through inert() and a page as text only.
 */

/** Interpreters whose first operand is the program that matters. */
const INTERPRETERS =
  /^(python[\d.]*|pypy[\d.]*|node|nodejs|deno|bun|ruby[\d.]*|perl[\d.]*|php[\d.]*|lua[\d.]*|luajit|r|rscript|tsx|ts-node|sh|bash|dash|zsh|ksh|fish|java|dotnet|mono|gjs|osascript)$/i;

/** Options of those interpreters that take the next argument as their value (so it is not the program). */
const TAKES_VALUE = new Set([
  '-c', // python -c CODE, sh -c CODE: the code is the program; shown as "-c"
  '-W',
  '-X',
  '-cp',
  '-classpath',
  '--class-path',
  '-p',
  '--module-path',
  '-r',
  '--require',
  '--import',
  '--loader',
  '--env-file',
  '--title',
  '-I',
  '-e',
]);

/** Longest summary shown beside a name; the full command line is the tooltip. */
export const SUMMARY_MAX = 48;

function baseName(path: string): string {
  const cut = path.replace(/\/+$/, '');
  const i = cut.lastIndexOf('/');
  return i >= 0 ? cut.slice(i + 1) : cut;
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * What sets this process apart from others of its name, or '' when nothing does: the script an interpreter runs
 * (`sneaky.py`), `-m module`, `-jar app.jar`, `-c`. Only interpreters get one: a daemon's arguments are flags.
 */
export function processArgument(p: Pick<ProcessInfo, 'name' | 'exe' | 'cmdline'>): string {
  const argv = p.cmdline;
  if (argv.length < 2) return '';
  const program = baseName(argv[0] ?? '');
  if (!INTERPRETERS.test(program) && !INTERPRETERS.test(p.name) && !(p.exe !== null && INTERPRETERS.test(baseName(p.exe)))) return '';
  const isJava = /^java$/i.test(program) || /^java$/i.test(p.name);
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '-m' || (isJava && a === '-jar')) {
      const next = argv[i + 1];
      return next === undefined ? a : `${a} ${baseName(next)}`;
    }
    if (a === '-c' || a === '-e') return a;
    if (a === '--') continue;
    if (a.startsWith('-')) {
      if (TAKES_VALUE.has(a)) i++;
      continue;
    }
    // java's main class keeps its dots; a script path is shown by its file name
    return isJava ? a : baseName(a);
  }
  return '';
}

/**
 * Summaries by process object: every row of a process shares one (the sources and the wire hand out one object
 * per process), and a list renders thousands of rows a second while it scrolls.
 */
const summaries = new WeakMap<object, string>();
const lines = new WeakMap<object, string>();

/** `python3 sneaky.py`, `node server.js`, `java -jar app.jar`, or just the name; at most SUMMARY_MAX characters. */
export function processSummary(p: Pick<ProcessInfo, 'name' | 'exe' | 'cmdline'>): string {
  const known = summaries.get(p);
  if (known !== undefined) return known;
  const arg = processArgument(p);
  const text = clip(arg === '' ? p.name : `${p.name} ${arg}`, SUMMARY_MAX);
  summaries.set(p, text);
  return text;
}

/** The whole command line as one line of text (the tooltip beside a summary); the name when it is empty. */
export function commandLine(p: Pick<ProcessInfo, 'name' | 'cmdline'>): string {
  const known = lines.get(p);
  if (known !== undefined) return known;
  const text = p.cmdline.length > 0 ? p.cmdline.join(' ') : p.name;
  lines.set(p, text);
  return text;
}
