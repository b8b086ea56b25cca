// Flips Electron's fuses in a packaged Portwatch, at packaging time:
//   node scripts/fuses.mjs <path to the packaged Electron binary or .app>
// Fuses are bits in the binary itself, so no environment or command line can turn a feature back on.
// Run it after the app is packaged into an asar (OnlyLoadAppFromAsar refuses a loose app directory) and before
// signing; the packager must write the asar integrity hash (electron-builder and Forge do) for
// EnableEmbeddedAsarIntegrityValidation, which Electron checks on macOS and Windows.
import { flipFuses, FuseV1Options, FuseVersion } from '@electron/fuses';
import { pathToFileURL } from 'node:url';

/**
 * The fuse wire of a packaged Portwatch. Pinned by test/main/electron/fuses.test.ts.
 * RunAsNode stays on for one reason only: the systeminformation helper (src/main/engine/sources/siChild.ts)
 * starts the Electron binary with ELECTRON_RUN_AS_NODE=1 to get a killable plain-Node child. Turn it off
 * in the same change that moves that helper off it; the test fails until both agree.
 */
export const FUSES = Object.freeze({
  [FuseV1Options.RunAsNode]: true,
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
