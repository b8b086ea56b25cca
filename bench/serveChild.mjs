// `portwatch serve` as a process of its own, for benchmarks that measure the serving process (its RSS): the
// monitor at 1 Hz over the machine's real sockets, and the web server. Prints one line of JSON
// ({ url, port, token }) once the first snapshot is in; leaves when its stdin closes.
//   node bench/serveChild.mjs
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { MonitorHost } = require('../out/node/engine.cjs');
const { startServer } = require('../out/node/server.cjs');

const monitor = new MonitorHost({ intervalMs: 1000 });
monitor.start();
await new Promise((resolve) => {
  const off = monitor.on('snapshot', () => (off(), resolve()));
});
const server = await startServer({ monitor, staticDir: join(here, '..', 'out', 'renderer'), port: 0 });
process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, token: server.token })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await server.close();
  await monitor.stop();
  process.exit(0);
});
