import { execFileSync, spawnSync } from 'node:child_process';
import type { Socket } from '../../src/shared/model';
import { BIN } from './paths';

/** Network namespaces need root and iproute2; tests that use them run only where both are there. */
export const canNetns = process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;

/** A network namespace of a test's own, loopback up: an isolated world of sockets. */
export class Netns {
  readonly name: string;
  constructor(prefix: string) {
    this.name = `${prefix}${process.pid}`;
  }

  /** `ip` arguments that run a command inside it. */
  exec(...cmd: string[]): string[] {
    return ['netns', 'exec', this.name, ...cmd];
  }

  create(): void {
    execFileSync('ip', ['netns', 'add', this.name]);
    execFileSync('ip', this.exec('ip', 'link', 'set', 'lo', 'up'));
  }

  remove(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
  }

  /** What `portwatch list --json` sees inside it. */
  list(env: NodeJS.ProcessEnv = process.env): Socket[] {
    return (JSON.parse(execFileSync('ip', this.exec(process.execPath, BIN, 'list', '--json'), { encoding: 'utf8', env })) as { sockets: Socket[] }).sockets;
  }
}
