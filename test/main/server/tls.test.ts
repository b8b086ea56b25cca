import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Monitor } from '../../../src/main/engine/monitor';
import { loadTlsFiles, MAX_TLS_FILE_BYTES, startServer, type RunningServer, type TlsFilesResult } from '../../../src/main/server';
import { WS_PATH, type WsMessage } from '../../../src/shared/api';
import { launchChromium } from '../../helpers/browser';
import { waitFor } from '../../helpers/children';
import { BIN, ROOT } from '../../helpers/paths';
import { oneListenerMonitor } from '../../helpers/sockets';

/**
 * serve over TLS (--tls-cert, --tls-key): https and wss with a self-signed certificate made at test time,
 * and the loader, which reads both files as hostile input (serve often runs as root).
 */

const STATIC = join(ROOT, 'out', 'renderer');
const TOKEN = 'secret-token-123';
const OPENSSL = '/usr/bin/openssl';

let dir: string;
let certPath: string;
let keyPath: string;
let cert: Buffer;
let key: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'portwatch-tls-'));
  certPath = join(dir, 'cert.pem');
  keyPath = join(dir, 'key.pem');
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  chmodSync(keyPath, 0o600);
  cert = readFileSync(certPath);
  key = readFileSync(keyPath);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An https GET that trusts our certificate; rejects when no HTTP answer comes. */
function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca: cert, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A plain-http GET; resolves with its status, or with the error that ended it. */
function plainGet(port: number): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false, headers: { Host: `127.0.0.1:${port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', resolve);
    req.end();
  });
}

/**
 * A wss client trusting our certificate that says hello with the token: resolves with the socket once welcomed
 * (messages after the welcome are in `messages`), or with the HTTP status or close code it was refused with.
 */
function wss(port: number, origin: string): Promise<{ ws: WebSocket; messages: WsMessage[] } | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${WS_PATH}`, { ca: cert, headers: { Origin: origin } });
    const messages: WsMessage[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as WsMessage | { type: 'welcome' };
      if (m.type === 'welcome') resolve({ ws, messages });
      else messages.push(m);
    });
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', token: TOKEN })));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('close', (code) => resolve(-code));
    ws.once('error', () => resolve(-1));
  });
}

describe('serve over TLS', () => {
  let monitor: Monitor;
  const servers: RunningServer[] = [];
  const start = async (opts: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer> => {
    const s = await startServer({ monitor, staticDir: STATIC, port: 0, token: TOKEN, tls: { cert, key }, ...opts });
    servers.push(s);
    return s;
  };

  beforeEach(async () => {
    monitor = await oneListenerMonitor();
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await monitor.stop();
  });

  it('prints https URLs and serves the page over https', async () => {
    const server = await start();
    expect(server.url).toBe(`https://127.0.0.1:${server.port}/#token=${TOKEN}`);
    expect(server.openUrl()).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${server.port}/#code=[\\w-]+$`));
    const page = await get(server.port, '/index.html');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="root">');
  });

  it('lets a wss client with the token in and sends it the snapshot; it outlives the limit for unauthenticated connections', async () => {
    const server = await start();
    const client = await wss(server.port, `https://127.0.0.1:${server.port}`);
    if (typeof client === 'number') throw new Error(`refused: ${client}`);
    const snapshot = await waitFor(() => client.messages.find((m) => m.type === 'event' && m.event === 'snapshot'), 5_000, 'snapshot');
    expect(JSON.stringify(snapshot)).toContain('127.0.0.1');
    // a TLS connection made after the WebSocket's, that never shows the token: once the server has dropped
    // it, the WebSocket's own deadline has passed too
    const idle = tlsConnect({ host: '127.0.0.1', port: server.port, ca: cert, servername: 'localhost' });
    idle.on('error', () => undefined);
    idle.resume();
    await new Promise<void>((resolve) => idle.once('close', () => resolve()));
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    const answer = new Promise<WsMessage>((resolve) =>
      client.ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as WsMessage;
        if (m.type === 'result' && m.id === 7) resolve(m);
      }),
    );
    client.ws.send(JSON.stringify({ id: 7, method: 'getAlerts', args: [] }));
    expect(await answer).toMatchObject({ type: 'result', id: 7, result: { ok: true } });
    client.ws.close();
  }, 20_000);

  it('answers no plain-http request or ws:// upgrade on its port', async () => {
    const server = await start();
    expect(await plainGet(server.port)).toBeInstanceOf(Error);
    const plain = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}${WS_PATH}`, { headers: { Origin: `http://127.0.0.1:${server.port}` } });
      ws.once('open', () => resolve('open'));
      ws.once('error', () => resolve('error'));
    });
    expect(plain).toBe('error');
  });

  it('refuses a WebSocket whose Origin is http:// (and a plain server refuses an https:// one)', async () => {
    const server = await start();
    expect(await wss(server.port, `http://127.0.0.1:${server.port}`)).toBe(403);
    expect(await wss(server.port, `https://evil.example:${server.port}`)).toBe(403);
    const plain = await start({ tls: undefined });
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${plain.port}${WS_PATH}`, { headers: { Origin: `https://127.0.0.1:${plain.port}` } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => resolve(101));
      ws.once('error', () => resolve(-1));
    });
    expect(refused).toBe(403);
  });

  it('survives TLS connections reset while their upgrade is being refused', async () => {
    const server = await start();
    for (let i = 0; i < 30; i++) {
      // TLS over a TCP socket of our own, which can be reset (a TLS socket cannot)
      const raw = netConnect({ host: '127.0.0.1', port: server.port });
      raw.on('error', () => undefined);
      const c = tlsConnect({ socket: raw, ca: cert, servername: 'localhost' });
      c.on('error', () => undefined);
      await new Promise<void>((resolve) => c.once('secureConnect', () => resolve()));
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      c.write(
        `GET ${WS_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nOrigin: http://127.0.0.1:${server.port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      raw.resetAndDestroy();
      await closed;
    }
    expect((await get(server.port, '/')).status).toBe(200);
  });

  it('in Chromium, a page loaded over https connects over wss and goes live', async () => {
    const server = await start();
    const browser = await launchChromium();
    try {
      // self-signed: the certificate is what this test made, not one a browser would know
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const sockets: string[] = [];
      page.on('websocket', (ws) => sockets.push(ws.url()));
      await page.goto(server.url);
      await page.locator('[data-testid=status-bar][data-state=ok]').waitFor({ timeout: 10_000 });
      expect(sockets).toEqual([`wss://127.0.0.1:${server.port}${WS_PATH}`]);
    } finally {
      await browser.close();
    }
  }, 30_000);
});

describe('serve --tls-cert --tls-key from the command line', () => {
  /** Runs bin/portwatch serve until it prints its URL (over https, loads the page), stops it with Ctrl-C. */
  async function serveOnce(args: string[]): Promise<{ url: string; stderr: string; code: number | null }> {
    const serve = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    serve.stdout.on('data', (d: Buffer) => (out += d.toString()));
    serve.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // 'close': the process has exited and its output has all been read
    const exited = new Promise<number | null>((r) => serve.once('close', (code) => r(code)));
    try {
      const url = await waitFor(() => /serving (https?:\/\/\S+)/.exec(out)?.[1], 15_000, 'URL');
      if (url.startsWith('https:')) {
        const page = await get(Number(new URL(url).port), '/');
        expect(page.status).toBe(200);
      }
      serve.kill('SIGINT');
      const code = await exited;
      return { url, stderr: err, code };
    } finally {
      if (serve.exitCode === null && serve.signalCode === null) serve.kill('SIGKILL');
    }
  }

  it('serves https, and warns that --allow-remote without them is plain HTTP', async () => {
    const secure = await serveOnce(['--tls-cert', certPath, '--tls-key', keyPath]);
    expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/#token=/);
    expect(secure.code).toBe(0);
    const remote = await serveOnce(['--host', '0.0.0.0', '--allow-remote']);
    expect(remote.url).toMatch(/^http:\/\//);
    expect(remote.stderr).toMatch(/^portwatch: WARNING: this is plain HTTP.*--tls-cert FILE --tls-key FILE serve https/m);
    const remoteTls = await serveOnce(['--host', '0.0.0.0', '--allow-remote', '--tls-cert', certPath, '--tls-key', keyPath]);
    expect(remoteTls.url).toMatch(/^https:\/\//);
    expect(remoteTls.stderr).not.toMatch(/plain HTTP/);
  }, 60_000);

  it("exits 1 with the loader's message for a bad file, before serving anything", async () => {
    const bad = join(dir, 'cli-bad.pem');
    writeFileSync(bad, 'not a certificate\n');
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--tls-cert', bad, '--tls-key', keyPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`portwatch serve: --tls-cert ${bad} is not a PEM certificate (-----BEGIN CERTIFICATE-----)\n`);
  }, 20_000);
});

describe('loadTlsFiles', () => {
  let n = 0;
  /** A new file in the temp dir with these contents and mode. */
  const file = (contents: string | Buffer, mode = 0o600): string => {
    const path = join(dir, `f${n++}.pem`);
    writeFileSync(path, contents);
    chmodSync(path, mode);
    return path;
  };
  /** A refusal whose message matches `message` and quotes none of `secrets`. */
  const expectRefused = (r: TlsFilesResult, message: RegExp, ...secrets: string[]): void => {
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.message;
    expect(text).toMatch(message);
    for (const s of secrets) expect(text).not.toContain(s);
  };
  /** The base64 lines of a PEM file: what no message may quote. */
  const bodyOf = (pem: Buffer | string): string[] =>
    String(pem)
      .split('\n')
      .filter((l) => l.length > 0 && !l.startsWith('-----'));

  it('reads a matching certificate and key as they are', () => {
    const r = loadTlsFiles(certPath, keyPath);
    expect(r).toEqual({ ok: true, cert, key });
  });

  it('refuses a FIFO without blocking on it, and a device', () => {
    const fifo = join(dir, 'fifo.pem');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    // nothing ever writes to it: a blocking open or read would hang this test
    expectRefused(loadTlsFiles(fifo, keyPath), /^--tls-cert .*fifo\.pem is not a regular file$/);
    expectRefused(loadTlsFiles(certPath, fifo), /^--tls-key .*fifo\.pem is not a regular file$/);
    expectRefused(loadTlsFiles('/dev/zero', keyPath), /^--tls-cert \/dev\/zero is not a regular file$/);
  });

  it('follows a symbolic link once, as certbot lays out live/ -> archive/, and checks the file it names', () => {
    const archive = join(dir, 'archive');
    mkdirSync(archive);
    const realKey = join(archive, 'privkey1.pem');
    writeFileSync(realKey, key, { mode: 0o600 });
    const realCert = join(archive, 'cert1.pem');
    writeFileSync(realCert, cert);
    const live = join(dir, 'live');
    mkdirSync(live);
    symlinkSync(realKey, join(live, 'privkey.pem'));
    symlinkSync(realCert, join(live, 'cert.pem'));
    expect(loadTlsFiles(join(live, 'cert.pem'), join(live, 'privkey.pem')).ok).toBe(true);
    // what is checked is the file itself: a link to a key open to others is refused like the key
    chmodSync(realKey, 0o644);
    expectRefused(
      loadTlsFiles(join(live, 'cert.pem'), join(live, 'privkey.pem')),
      /^--tls-key .*privkey\.pem is open to others or writable by its group \(mode 644\): chmod 600 it$/,
      ...bodyOf(key),
    );
    // and a link to a FIFO or a device is not opened
    symlinkSync('/dev/zero', join(live, 'zero.pem'));
    expectRefused(loadTlsFiles(join(live, 'zero.pem'), keyPath), /^--tls-cert .*zero\.pem is not a regular file$/);
  });

  it('refuses a file larger than MAX_TLS_FILE_BYTES without quoting it', () => {
    const big = file(Buffer.concat([cert, Buffer.alloc(MAX_TLS_FILE_BYTES, 'A')]));
    expectRefused(loadTlsFiles(big, keyPath), new RegExp(`^--tls-cert .* is larger than ${MAX_TLS_FILE_BYTES} bytes`), 'AAAA', ...bodyOf(cert));
    const exact = file(Buffer.concat([cert, Buffer.alloc(MAX_TLS_FILE_BYTES - cert.length, '\n')]));
    expect(loadTlsFiles(exact, keyPath).ok).toBe(true);
  });

  it('refuses a key open to others or writable by its group, naming chmod 600, and takes it once fixed', () => {
    for (const mode of [0o644, 0o604, 0o620, 0o602]) {
      const open = file(key, mode);
      expectRefused(
        loadTlsFiles(certPath, open),
        new RegExp(`^--tls-key .* is open to others or writable by its group \\(mode ${mode.toString(8)}\\): chmod 600 it$`),
        ...bodyOf(key),
      );
      chmodSync(open, 0o600);
      expect(loadTlsFiles(certPath, open).ok).toBe(true);
    }
    // readable by its group (Debian's ssl-cert group) is the admin's choice
    expect(loadTlsFiles(certPath, file(key, 0o640)).ok).toBe(true);
    // the certificate is public: its mode is its own business
    expect(loadTlsFiles(file(cert, 0o644), keyPath).ok).toBe(true);
  });

  it('refuses a key that does not match the certificate, of the same type or another', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    for (const other of [ec, rsa]) {
      expectRefused(loadTlsFiles(certPath, file(other)), /^--tls-key does not match --tls-cert: /, ...bodyOf(other), ...bodyOf(key));
    }
  });

  it('refuses files that are not PEM, or not what they should be, quoting none of them', () => {
    const secret = 'SECRET-MARKER-4f9a';
    const text = file(`${secret}\nhello\n`);
    expectRefused(loadTlsFiles(text, keyPath), /^--tls-cert .* is not a PEM certificate/, secret);
    expectRefused(loadTlsFiles(certPath, text), /^--tls-key .* is not a PEM private key/, secret);
    expectRefused(loadTlsFiles(file(''), keyPath), /is not a PEM certificate/);
    // swapped: the key given as the certificate, the certificate as the key
    expectRefused(loadTlsFiles(keyPath, certPath), /^--tls-cert .* is not a PEM certificate/, ...bodyOf(key));
    expectRefused(loadTlsFiles(certPath, file(cert)), /^--tls-key .* is not a PEM private key/, ...bodyOf(cert));
    // a DER certificate is a certificate, but not PEM: refused rather than guessed
    const der = execFileSync(OPENSSL, ['x509', '-in', certPath, '-outform', 'DER']);
    expectRefused(loadTlsFiles(file(der), keyPath), /is not a PEM certificate/);
    const encrypted = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'pw',
    });
    // PKCS#8's encrypted form, and the traditional one (Proc-Type: 4,ENCRYPTED)
    const traditional = execFileSync(OPENSSL, ['ec', '-in', keyPath, '-aes256', '-passout', 'pass:pw'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    expect(traditional).toContain('Proc-Type: 4,ENCRYPTED');
    for (const locked of [encrypted, traditional]) {
      expectRefused(loadTlsFiles(certPath, file(locked)), /^--tls-key .* is encrypted: serve needs it without a passphrase/, ...bodyOf(locked));
    }
  });

  it('says which file is missing', () => {
    expectRefused(loadTlsFiles(join(dir, 'nope.pem'), keyPath), /^cannot read --tls-cert .*nope\.pem: ENOENT/);
    expectRefused(loadTlsFiles(certPath, join(dir, 'nope.pem')), /^cannot read --tls-key .*nope\.pem: ENOENT/);
  });
});
