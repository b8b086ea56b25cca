import { join } from 'node:path';
import { inject } from 'vitest';
import { bundlePath } from '../../src/main/engine/bundles';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A copy of the built CLI that every user can run, made by test/globalSetup.ts for this run. */
    portwatchInstall: string;
  }
}

export const ROOT = join(__dirname, '..', '..');
/**
 * bin/portwatch, run from the copy that every user can read, as an installed package is: tests run it as user
 * nobody too, who may not be able to enter the checkout.
 */
export const BIN = join(inject('portwatchInstall'), 'bin', 'portwatch');
/** The built monitor worker and systeminformation helper (src/main/engine/bundles.ts names every bundle). */
export const WORKER = bundlePath('worker');
export const SI_CHILD = bundlePath('si-child');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
