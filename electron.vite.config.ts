import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';
import { APP_ENTRIES } from './src/main/engine/bundles';

// The Electron app's bundles, named in src/main/engine/bundles.ts (APP_ENTRIES): out/main, the Electron main
// process; out/preload, the sandboxed bridge; out/renderer, the React UI, served by Electron (app://) and by
// `portwatch serve` (web mode). The monitor worker and the systeminformation helper the app starts are the Node
// bundles of scripts/build-cli.mjs (out/node), built once for the CLI and the app; `npm run build` runs both.
// VITE_PORTWATCH_PROFILE=1 builds a React profiling renderer into out/renderer-profile for the benchmark.
const profile = process.env.VITE_PORTWATCH_PROFILE === '1';
type AppEntry = (typeof APP_ENTRIES)[keyof typeof APP_ENTRIES];
const input = (e: AppEntry): Record<string, string> => ({ [e.name]: resolve(__dirname, e.entry) });
const outDir = (e: AppEntry): string => resolve(__dirname, 'out', e.dir);

export default defineConfig({
  main: {
    build: {
      outDir: outDir(APP_ENTRIES.main),
      // one file on purpose: the engine's lazy imports (systeminformation) keep the CLI's `list` bundle small;
      // the app's main process loads everything anyway
      rollupOptions: { input: input(APP_ENTRIES.main), checks: { ineffectiveDynamicImport: false } },
    },
  },
  preload: {
    build: {
      outDir: outDir(APP_ENTRIES.preload),
      // a sandboxed preload can require nothing but electron: bundle everything else in
      externalizeDeps: false,
      rollupOptions: { input: input(APP_ENTRIES.preload) },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [react()],
    resolve: profile ? { alias: { 'react-dom/client': 'react-dom/profiling' } } : {},
    build: {
      outDir: profile ? resolve(__dirname, 'out/renderer-profile') : outDir(APP_ENTRIES.renderer),
      rollupOptions: { input: input(APP_ENTRIES.renderer) },
    },
  },
});
