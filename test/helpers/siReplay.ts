import { createRequire } from 'node:module';
import type { SiConnection } from '../../src/main/engine/sources/systeminformation';

const require = createRequire(import.meta.url);

type ExecCallback = (error: Error | null, stdout: Buffer, stderr: Buffer) => void;

function dropSiFromCache(): void {
  for (const key of Object.keys(require.cache)) if (key.includes('/node_modules/systeminformation/')) delete require.cache[key];
}

/**
 * Runs systeminformation's real networkConnections() parser for `platform` on recorded command output:
 * loads a fresh copy of its network module while child_process.exec answers from `respond` (null: the
 * command fails) and process.platform reads `platform`. Both are restored before this returns.
 */
export async function replayNetworkConnections(
  platform: NodeJS.Platform,
  respond: (command: string) => string | null,
): Promise<{ rows: SiConnection[]; commands: string[] }> {
  const cp = require('child_process') as { exec: unknown };
  const originalExec = cp.exec;
  const platformDescriptor = Object.getOwnPropertyDescriptor(process, 'platform') as PropertyDescriptor;
  const commands: string[] = [];
  let net: { networkConnections: () => Promise<SiConnection[]> };
  dropSiFromCache();
  cp.exec = (command: string, opts: unknown, cb?: ExecCallback) => {
    const callback = (typeof opts === 'function' ? opts : cb) as ExecCallback;
    commands.push(command);
    const out = respond(command);
    setImmediate(() => callback(out === null ? new Error(`replay: no output for ${command}`) : null, Buffer.from(out ?? ''), Buffer.alloc(0)));
    return { on() {}, kill() {} };
  };
  Object.defineProperty(process, 'platform', { ...platformDescriptor, value: platform });
  try {
    net = require('systeminformation/lib/network.js') as typeof net;
  } finally {
    cp.exec = originalExec;
    Object.defineProperty(process, 'platform', platformDescriptor);
  }
  try {
    return { rows: await net.networkConnections(), commands };
  } finally {
    dropSiFromCache();
  }
}
