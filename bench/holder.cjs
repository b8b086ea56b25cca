'use strict';
// Holds COUNT loopback TCP sockets open (a listener plus connected pairs) and churns them on request:
//   stdin "churn K\n" -> closes K pairs with RST (no TIME_WAIT pile-up) and opens K new ones, then "ok\n".
const net = require('node:net');
const count = Number(process.argv[2]);
const pairs = [];
let port = 0;
const accepted = [];
const server = net.createServer((c) => {
  c.on('error', () => {});
  accepted.push(c);
});
function connectPair() {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', reject);
    c.once('connect', () => {
      // the server side arrives through the accept callback; pair them by order
      const wait = () => (accepted.length ? resolve([c, accepted.shift()]) : setImmediate(wait));
      wait();
    });
  });
}
async function open(n) {
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 100); k++) batch.push(connectPair());
    for (const p of await Promise.all(batch)) pairs.push(p);
  }
}
server.listen(0, '127.0.0.1', async () => {
  port = server.address().port;
  await open(Math.max(0, Math.floor((count - 1) / 2)));
  process.stdout.write('ready\n');
});
let buf = '';
process.stdin.on('data', async (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const [cmd, arg] = buf.slice(0, nl).split(' ');
    buf = buf.slice(nl + 1);
    if (cmd === 'churn') {
      const k = Number(arg);
      for (const [a, b] of pairs.splice(0, k)) {
        a.resetAndDestroy();
        b.destroy();
      }
      await open(k);
      process.stdout.write('ok\n');
    }
  }
});
// Leave with resets, not FINs: tens of thousands of TIME_WAIT sockets would skew the next measurement.
process.stdin.on('end', () => {
  for (const [a, b] of pairs) {
    a.resetAndDestroy();
    b.resetAndDestroy();
  }
  setImmediate(() => process.exit(0));
});
