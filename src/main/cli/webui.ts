import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The repository (or install) root, from the bundle in out/node. */
export const ROOT = join(__dirname, '..', '..');
export const RENDERER_DIR = join(ROOT, 'out', 'renderer');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Makes sure the built web UI exists and is not older than its sources (a fresh checkout, a `git pull`):
 * builds it with electron-vite when needed, so `portwatch serve` needs no manual step.
 */
export function ensureWebUi(log: (line: string) => void): string {
  const index = join(RENDERER_DIR, 'index.html');
  const sources = [join(ROOT, 'src', 'renderer'), join(ROOT, 'src', 'shared')].filter(existsSync);
  const stale = !existsSync(index) || sources.some((d) => newest(d) > statSync(index).mtimeMs);
  if (stale) {
    const bin = join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
    if (!existsSync(bin)) throw new Error(`the web UI is not built and electron-vite is missing: run npm ci in ${ROOT}`);
    log('portwatch: building the web UI...\n');
    execFileSync(process.execPath, [bin, 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return RENDERER_DIR;
}

/**
 * The command that opens `url` in the user's browser, as an argument array (never a shell string). Its
 * arguments are readable by every local user (/proc/PID/cmdline, ps): `url` must carry nothing secret for
 * longer than it takes to use it (serve passes a one-time code, RunningServer.openUrl()).
 */
export function browserCommand(url: string, platform: NodeJS.Platform = process.platform): [cmd: string, args: string[]] {
  if (platform === 'darwin') return ['open', [url]];
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""', url]];
  return ['xdg-open', [url]];
}

/** Opens a URL in the user's browser (see browserCommand). */
export function openInBrowser(url: string): void {
  const [cmd, args] = browserCommand(url);
  execFile(cmd, args, () => {});
}
