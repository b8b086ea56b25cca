import { execFile } from 'node:child_process';
import { appDir, appPath, built } from '../engine/bundles';

/**
 * The built web UI that `portwatch serve` serves (out/renderer, written by `npm run build`). Nothing builds it at
 * run time: when it is missing this throws, saying how to build it.
 */
export function builtWebUi(outDir?: string): string {
  built(appPath('renderer', outDir));
  return appDir('renderer', outDir);
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
