// Takes docs/screenshot.png: the web UI in Chromium over this machine's real sockets plus a few sample
// servers (a web server, a database-like listener, a UDP service, their clients).
//   node scripts/screenshot.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../bench/chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { MonitorHost } = require('../out/node/engine.cjs');
const { startServer } = require('../out/node/server.cjs');

const tmp = mkdtempSync(join(tmpdir(), 'pw-shot-'));
const kids = [];
function sample(name, code) {
  const bin = join(tmp, name);
  symlinkSync(process.execPath, bin);
  const p = spawn(bin, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  kids.push(p);
  return new Promise((resolve, reject) => {
    p.stdout.once('data', resolve);
    p.once('exit', (code) => reject(new Error(`sample ${name} exited with ${code}`)));
  });
}
await sample(
  'webserver',
  `const h=require('http');const s=h.createServer((q,r)=>r.end('ok'));s.listen(8080,'0.0.0.0',()=>{const s2=h.createServer();s2.listen(8443,'::',()=>{for(let i=0;i<3;i++)require('net').connect(8080,'127.0.0.1');console.log('up')})})`,
);
await sample(
  'postgres-like-database',
  `const n=require('net');n.createServer(()=>{}).listen(5432,'127.0.0.1',()=>{n.createServer(()=>{}).listen(5432,'::1',()=>console.log('up'))})`,
);
await sample(
  'mdns-responder',
  `const d=require('dgram');const u=d.createSocket('udp4');u.bind(5353,'0.0.0.0',()=>{const v=d.createSocket({type:'udp6',ipv6Only:true});v.bind(5353,'::',()=>console.log('up'))})`,
);

const monitor = new MonitorHost({ intervalMs: 1000 });
monitor.start();
const server = await startServer({ monitor, staticDir: join(root, 'out', 'renderer'), port: 0 });
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1200, height: 720 }, deviceScaleFactor: 1 });
await page.goto(server.url);
await page.locator('[data-testid=group-name]:text-is("webserver")').waitFor();

await page.locator('[data-testid=socket-row]').first().click();
await page.screenshot({ path: join(root, 'docs', 'screenshot.png') });
await browser.close();
await server.close();
await monitor.stop();
for (const k of kids) k.kill();
console.log('docs/screenshot.png');
