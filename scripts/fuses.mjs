// Flips Electron's fuses in a packaged Portwatch, at packaging time:
//   node scripts/fuses.mjs <path to the packaged Electron binary or .app>
// Fuses are bits in the binary itself, so no environment or command line can turn a feature back on.
// Run it after the app is packaged into an asar (OnlyLoadAppFromAsar refuses a loose app directory) and before
// signing; the packager must write the asar integrity hash (electron-builder and Forge do) for
// EnableEmbeddedAsarIntegrityValidation, which Electron checks on macOS and Windows.
import { flipFuses, FuseV1Options, FuseVersion } from '@electron/fuses';
import { pathToFileURL } from 'node:url';

/**
 * The fuse wire of a packaged Portwatch. Pinned by test/main/electron/protocol.test.ts.
 * RunAsNode is off: nothing may start the Electron binary as a plain Node. The one helper that needs a Node
 * process, systeminformation's (src/main/engine/sources/siChild.ts), runs in a utility process that the main
 * process forks for the monitor worker (src/main/electron/siLauncher.ts); the test fails if anything in src/
 * comes to rely on ELECTRON_RUN_AS_NODE again.
 */
export const FUSES = Object.freeze({
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableCookieEncryption]: true,
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  // the renderer is served from app://, so file:// needs none of its legacy privileges
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
});

/** The config flipFuses is given for a platform: on Apple silicon the ad-hoc signature must be redone. */
export function fuseConfig(platform = process.platform, arch = process.arch) {
  return { version: FuseVersion.V1, resetAdHocDarwinSignature: platform === 'darwin' && arch === 'arm64', ...FUSES };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write('usage: node scripts/fuses.mjs <path to the packaged Electron binary or .app>\n');
    process.exit(2);
  }
  await flipFuses(target, fuseConfig());
  process.stdout.write(`fuses flipped in ${target}\n`);
}
