import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'portwatch');
export const WORKER = join(ROOT, 'out', 'node', 'worker.cjs');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
