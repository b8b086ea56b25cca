import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

// out/main: the Electron main process and the monitor worker it starts; out/preload: the sandboxed bridge;
// out/renderer: the React UI, served by Electron (file://) and by `portwatch serve` (web mode).
// VITE_PORTWATCH_PROFILE=1 builds a React profiling renderer into out/renderer-profile for the benchmark.
const profile = process.env.VITE_PORTWATCH_PROFILE === '1';
export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          worker: resolve(__dirname, 'src/main/engine/worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // a sandboxed preload can require nothing but electron: bundle everything else in
      externalizeDeps: false,
      rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [react()],
    resolve: profile ? { alias: { 'react-dom/client': 'react-dom/profiling' } } : {},
    build: {
      ...(profile ? { outDir: resolve(__dirname, 'out/renderer-profile') } : {}),
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } },
    },
  },
});
