import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * `serve --tls-cert PATH --tls-key PATH`: the certificate and key for https and wss. The server may run as
 * root, so a path is treated as hostile: only a regular file is read (not a FIFO or a device, and nothing is
 * opened that could block), at most MAX_TLS_FILE_BYTES of it, and a key that others could read, or group could
 * change, is refused (a group-readable key, Debian's ssl-cert convention, is the admin's choice). A symbolic link
 * is resolved once and the file it names is checked and read without following links again: certbot's live/
 * directory is links into archive/, renewed in place. No error quotes a file's contents: a key must not end up in a terminal or a log.
 */

export type TlsFilesResult = { ok: true; cert: Buffer; key: Buffer } | { ok: false; message: string };

/** A certificate chain or a key is a few KiB; more than this is not one. */
export const MAX_TLS_FILE_BYTES = 1 << 20;

type Read = { ok: true; data: Buffer; stat: Stats } | { ok: false; message: string };

function notRegular(label: string, st: Stats): string | null {
  if (st.isSymbolicLink()) return `${label} changed while it was read: try again`;
  if (!st.isFile()) return `${label} is not a regular file`;
  if (st.size > MAX_TLS_FILE_BYTES) return `${label} is larger than ${MAX_TLS_FILE_BYTES} bytes: it is not a PEM certificate or key`;
  return null;
}

/** Reads a regular file of at most MAX_TLS_FILE_BYTES; `label` names it in messages ("--tls-key /etc/key.pem"). */
function readBounded(given: string, label: string): Read {
  let path: string;
  try {
    path = realpathSync(given);
  } catch (e) {
    return { ok: false, message: `cannot read ${label}: ${(e as Error).message}` };
  }
  // lstat first: it refuses a link, FIFO or device without opening it (opening a device can do things)
  try {
    const refused = notRegular(label, lstatSync(path));
    if (refused) return { ok: false, message: refused };
  } catch (e) {
    return { ok: false, message: `cannot read ${label}: ${(e as Error).message}` };
  }
  let fd: number;
  try {
    // the name may have been swapped since: no link followed, no blocking open, no controlling terminal
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return { ok: false, message: `cannot read ${label}: ${(e as Error).message}` };
  }
  try {
    // checked on the open file, not the name: what is checked is what is read
    const stat = fstatSync(fd);
    const refused = notRegular(label, stat);
    if (refused) return { ok: false, message: refused };
    // one byte past the limit tells a file that grew since fstat
    const buf = Buffer.alloc(MAX_TLS_FILE_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    if (n > MAX_TLS_FILE_BYTES) return { ok: false, message: `${label} is larger than ${MAX_TLS_FILE_BYTES} bytes: it is not a PEM certificate or key` };
    return { ok: true, data: buf.subarray(0, n), stat };
  } catch (e) {
    return { ok: false, message: `cannot read ${label}: ${(e as Error).message}` };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and checks `serve`'s certificate (PEM, a chain allowed: the server's own first) and private key
 * (PEM, unencrypted); errors as values. The key must match the certificate.
 */
export function loadTlsFiles(certPath: string, keyPath: string): TlsFilesResult {
  const certLabel = `--tls-cert ${certPath}`;
  const keyLabel = `--tls-key ${keyPath}`;
  const cert = readBounded(certPath, certLabel);
  if (!cert.ok) return cert;
  const key = readBounded(keyPath, keyLabel);
  if (!key.ok) return key;
  // the parsers' own messages are not passed on: none should quote the input, but none promises not to
  let x509: X509Certificate;
  try {
    // X509Certificate takes DER too, which the TLS server would not: PEM is asked for, so PEM is required
    if (!cert.data.includes('-----BEGIN CERTIFICATE-----')) throw new Error('not PEM');
    x509 = new X509Certificate(cert.data);
  } catch {
    return { ok: false, message: `${certLabel} is not a PEM certificate (-----BEGIN CERTIFICATE-----)` };
  }
  // told by its PEM header (PKCS#8's, or the traditional Proc-Type line): OpenSSL's error for it varies by version
  if (key.data.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || key.data.includes('Proc-Type: 4,ENCRYPTED')) {
    return { ok: false, message: `${keyLabel} is encrypted: serve needs it without a passphrase (openssl pkey -in KEY -out NEW, then chmod 600 NEW)` };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: key.data, format: 'pem' });
  } catch {
    return { ok: false, message: `${keyLabel} is not a PEM private key (-----BEGIN PRIVATE KEY-----)` };
  }
  // a key readable by others is no secret; when it is someone else's, reading it at all needed those bits.
  // Checked after parsing, so that files given the wrong way round say so instead.
  const euid = process.geteuid?.();
  const mode = key.stat.mode & 0o777;
  if ((euid === 0 || euid === key.stat.uid) && (mode & 0o027) !== 0) {
    return { ok: false, message: `${keyLabel} is open to others or writable by its group (mode ${mode.toString(8)}): chmod 600 it` };
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(privateKey);
  } catch {
    // a key of another type (an RSA key for an EC certificate) may throw rather than answer false
    matches = false;
  }
  if (!matches) return { ok: false, message: `--tls-key does not match --tls-cert: ${keyPath} is not the key of the certificate in ${certPath}` };
  return { ok: true, cert: cert.data, key: key.data };
}
