import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the fast part of the suite, for the edit-test loop. Tests that need nothing built (no
 * out/, so no globalSetup), no Chromium, no network namespace and no run of the CLI; parsers on recorded
 * fixtures, the engine, store and services on stubs and fake clocks. An explicit list: a new test joins it
 * when it meets that bar (the whole suite, `npm test`, runs it anyway).
 */
export default defineConfig({
  test: {
    include: [
      'test/shared/**/*.test.ts',
      'test/renderer/**/*.test.ts',
      'test/main/api/alertControls.test.ts',
      'test/main/api/alerts.test.ts',
      'test/main/api/alertsFlood.test.ts',
      'test/main/api/hostNames.test.ts',
      'test/main/cli/listing.test.ts',
      'test/main/cli/untrustedText.test.ts',
      'test/main/engine/baselineRules.test.ts',
      'test/main/engine/conntrack.test.ts',
      'test/main/cli/topModel.test.ts',
      'test/main/engine/faults.test.ts',
      'test/main/engine/historyPlace.test.ts',
      'test/main/engine/historyStore.test.ts',
      'test/main/engine/killDescendantTree.test.ts',
      'test/main/engine/monitor.test.ts',
      'test/main/engine/monitorHost.protocol.test.ts',
      'test/main/engine/names.test.ts',
      'test/main/engine/netns.test.ts',
      'test/main/engine/procNet.test.ts',
      'test/main/engine/runCommand.test.ts',
      'test/main/engine/sockDiag.test.ts',
      'test/main/engine/systeminformation.test.ts',
      'test/main/engine/tableStream.test.ts',
      'test/main/engine/traffic.test.ts',
      'test/main/engine/units.test.ts',
      'test/main/engine/walkShare.test.ts',
      'test/main/server/tokenFile.test.ts',
    ],
    environment: 'node',
    testTimeout: 20_000,
    // nothing here runs the built CLI; a test that did would fail on this path, saying why
    provide: { portwatchInstall: '/no-built-cli-in-unit-tests' },
  },
});
