// A new listener, timed from the moment it listens to the moment its row is in the page: the measure of
// bench/web.mjs and bench/scale.mjs.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A port free on 127.0.0.1 now. */
export function freePort() {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Opens a listener on a free port in a child process, looking for it as a user would (a search for the port:
 * the list is virtualized, so a row far down is not in the page until scrolled to). Resolves with the port, when
 * the row appeared (epoch ms), how long after listening that was, and stop() to end the listener.
 */
export async function newListenerToRow(page) {
  const port = await freePort();
  await page.getByTestId('search').fill(`lport:${port}`);
  // the page notes the moment the port appears (a MutationObserver: Playwright's own polling backs off to
  // 500 ms and would measure itself)
  await page.evaluate((p) => {
    window.__pwSeen = new Promise((resolve) => {
      const check = () => {
        if ([...document.querySelectorAll('[data-testid=socket-row]')].some((e) => (e.getAttribute('data-socket-id') ?? '').includes(`|${p}|`))) {
          observer.disconnect();
          resolve(Date.now());
        }
      };
      const observer = new MutationObserver(check);
      observer.observe(document.body, { childList: true, subtree: true, characterData: true });
    });
  }, port);
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port},'127.0.0.1',()=>console.log('up'))`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((r) => child.stdout.once('data', r));
  const t = Date.now();
  const shownAt = await page.evaluate(() => window.__pwSeen);
  return { port, shownAt, ms: shownAt - t, stop: () => new Promise((r) => (child.once('exit', r), child.kill())) };
}
