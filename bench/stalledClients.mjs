// K web clients that show the token, then never read again (a stuck tab, or a local user with the token
// trying to make the server hoard memory). A process of its own, so their memory is not the server's.
//   node bench/stalledClients.mjs PORT TOKEN K      prints "ready N" once N are welcomed and stalled
import WebSocket from 'ws';

const [port, token, count] = process.argv.slice(2);
const k = Number(count);
let ready = 0;
const sockets = [];
for (let i = 0; i < k; i++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { headers: { Origin: `http://127.0.0.1:${port}` } });
  sockets.push(ws);
  ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token })));
  ws.once('message', () => {
    // the welcome: from now on nothing is read, so the kernel's buffers fill and the server's backlog grows
    ws._socket.pause();
    if (++ready === k) process.stdout.write(`ready ${ready}\n`);
  });
  ws.on('close', (code) => process.stderr.write(`stalled client ${i} closed by the server: ${code}\n`));
  ws.on('error', () => undefined);
}
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
