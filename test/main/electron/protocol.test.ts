import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { trustedSender } from '../../../src/main/electron/ipc';
import { denyAllPermissions } from '../../../src/main/electron/permissions';
import { APP_URL, appProtocolHandler, contentTypeOf, registerAppScheme, rendererUrl, resolveAppPath } from '../../../src/main/electron/protocol';
import { ROOT } from '../../helpers/paths';

const root = '/app/out/renderer';

describe('app:// protocol', () => {
  it('registers app as a standard, secure scheme that fetch may use', () => {
    const register = vi.fn();
    registerAppScheme({ registerSchemesAsPrivileged: register });
    expect(register).toHaveBeenCalledWith([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  });

  it('maps app://portwatch paths into the renderer folder and refuses everything else', () => {
    expect(resolveAppPath(root, 'app://portwatch/index.html')).toEqual({ ok: true, file: '/app/out/renderer/index.html' });
    expect(resolveAppPath(root, 'app://portwatch/')).toEqual({ ok: true, file: '/app/out/renderer/index.html' });
    expect(resolveAppPath(root, 'app://portwatch/assets/index-x.js?v=1#h')).toEqual({ ok: true, file: '/app/out/renderer/assets/index-x.js' });
    // the URL parser folds ../ (and %2e%2e/) at the root: it stays inside (and is not found there)
    expect(resolveAppPath(root, 'app://portwatch/../../etc/passwd')).toEqual({ ok: true, file: '/app/out/renderer/etc/passwd' });
    expect(resolveAppPath(root, 'app://portwatch/%2e%2e/%2e%2e/etc/passwd')).toEqual({ ok: true, file: '/app/out/renderer/etc/passwd' });
    for (const url of ['app://portwatch/..%2f..%2fetc%2fpasswd', 'app://portwatch/a/..%2f..%2f..%2fetc/passwd', 'app://portwatch/index.html%00.png']) {
      expect(resolveAppPath(root, url), url).toEqual({ ok: false, status: 403 });
    }
    for (const url of ['app://other/index.html', 'file:///etc/passwd', 'app://portwatch/%E0%A4%A', 'not a url']) {
      expect(resolveAppPath(root, url), url).toEqual({ ok: false, status: 404 });
    }
  });

  it('serves files with their content type, the CSP and nosniff; never reads outside the folder', async () => {
    const files = new Set([`${root}/index.html`, `${root}/assets/a.js`, '/etc/passwd']);
    const read = vi.fn((file: string) => (files.has(file) ? Promise.resolve(Buffer.from(`<${file}>`)) : Promise.reject(new Error('ENOENT'))));
    const serve = appProtocolHandler(root, read);
    const page = await serve({ url: APP_URL });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
    expect(await page.text()).toBe('</app/out/renderer/index.html>');
    expect((await serve({ url: 'app://portwatch/assets/a.js' })).headers.get('content-type')).toBe('text/javascript; charset=utf-8');

    for (const url of ['app://portwatch/../../etc/passwd', 'app://portwatch/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 'app://portwatch/..%2f..%2f..%2fetc%2fpasswd']) {
      const r = await serve({ url });
      expect(r.status, url).not.toBe(200);
      expect(await r.text()).toBe('');
    }
    for (const [file] of read.mock.calls) expect(file.startsWith(`${root}/`), file).toBe(true);
    expect((await serve({ url: 'app://portwatch/missing.js' })).status).toBe(404);
  });

  it('knows the content types the renderer build holds', () => {
    expect(contentTypeOf('a.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeOf('favicon.PNG')).toBe('image/png');
    expect(contentTypeOf('f.svg')).toBe('image/svg+xml');
    expect(contentTypeOf('f.woff2')).toBe('font/woff2');
    expect(contentTypeOf('x.exe')).toBe('application/octet-stream');
  });
});

describe('renderer URL', () => {
  const dev = 'http://localhost:5173';
  it('ignores ELECTRON_RENDERER_URL in a packaged app or a production build', () => {
    expect(rendererUrl({ isPackaged: true, dev: true, devServerUrl: dev })).toBe(APP_URL);
    expect(rendererUrl({ isPackaged: false, dev: false, devServerUrl: dev })).toBe(APP_URL);
    expect(rendererUrl({ isPackaged: true, dev: false, devServerUrl: dev })).toBe(APP_URL);
  });

  it('uses it, normalised, in an unpackaged development build; only an http(s) one', () => {
    expect(rendererUrl({ isPackaged: false, dev: true, devServerUrl: dev })).toBe('http://localhost:5173/');
    expect(rendererUrl({ isPackaged: false, dev: true, devServerUrl: undefined })).toBe(APP_URL);
    expect(rendererUrl({ isPackaged: false, dev: true, devServerUrl: 'file:///tmp/evil.html' })).toBe(APP_URL);
    expect(rendererUrl({ isPackaged: false, dev: true, devServerUrl: 'javascript:alert(1)' })).toBe(APP_URL);
  });

  it('the IPC sender check accepts exactly the page loaded: app://portwatch, or the dev server in dev', () => {
    const frame = { url: APP_URL } as never as { url: string };
    const trusted = trustedSender(
      () => frame as never,
      () => rendererUrl({ isPackaged: true, dev: true, devServerUrl: 'http://localhost:5173' }),
    );
    expect(trusted(frame as never)).toBe(true);
    frame.url = `${APP_URL}#/alerts`;
    expect(trusted(frame as never)).toBe(true);
    for (const url of ['http://localhost:5173/', 'file:///app/out/renderer/index.html', 'app://portwatch.evil/index.html', 'app://portwatch/other.html']) {
      frame.url = url;
      expect(trusted(frame as never), url).toBe(false);
    }
    const devFrame = { url: 'http://localhost:5173/' };
    const inDev = trustedSender(
      () => devFrame as never,
      () => rendererUrl({ isPackaged: false, dev: true, devServerUrl: 'http://localhost:5173' }),
    );
    expect(inDev(devFrame as never)).toBe(true);
  });
});

describe('permissions', () => {
  it('denies every check, request and device, but a clipboard write from the app itself', () => {
    let check!: (...a: unknown[]) => boolean;
    let request!: (wc: unknown, p: string, cb: (ok: boolean) => void, d: unknown) => void;
    let device!: (...a: unknown[]) => boolean;
    denyAllPermissions({
      setPermissionCheckHandler: (h) => (check = h as never),
      setPermissionRequestHandler: (h) => (request = h as never),
      setDevicePermissionHandler: (h) => (device = h as never),
    });
    for (const p of ['notifications', 'media', 'geolocation', 'clipboard-read', 'fullscreen', 'openExternal', 'hid', 'serial', 'usb']) {
      expect(check(null, p, 'app://portwatch', {}), p).toBe(false);
      const cb = vi.fn();
      request(null, p, cb, {});
      expect(cb, p).toHaveBeenCalledWith(false);
    }
    expect(device({ deviceType: 'usb', origin: 'app://portwatch' })).toBe(false);
    // the row menu's copies: the app's own page only
    expect(check(null, 'clipboard-sanitized-write', 'app://portwatch', {})).toBe(true);
    for (const origin of ['https://evil.example', 'app://portwatch.evil', 'file://', '', 'not a url'])
      expect(check(null, 'clipboard-sanitized-write', origin, {}), origin).toBe(false);
    const ok = vi.fn();
    request(null, 'clipboard-sanitized-write', ok, { requestingUrl: 'app://portwatch/index.html' });
    expect(ok).toHaveBeenCalledWith(true);
    const no = vi.fn();
    request(null, 'clipboard-sanitized-write', no, { requestingUrl: 'https://evil.example/' });
    request(null, 'clipboard-sanitized-write', no, {});
    expect(no.mock.calls).toEqual([[false], [false]]);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.(ts|tsx|mjs)$/.test(name) ? [p] : [];
  });
}

describe('ELECTRON_RUN_AS_NODE and the fuses', () => {
  const users = sourceFiles(join(ROOT, 'src'))
    .filter((f) => readFileSync(f, 'utf8').includes('ELECTRON_RUN_AS_NODE'))
    .map((f) => relative(ROOT, f).replaceAll('\\', '/'));

  it('nothing in src/ sets or needs ELECTRON_RUN_AS_NODE', () => {
    // systeminformation's helper runs in a utility process under Electron (src/main/electron/siLauncher.ts)
    expect(users).toEqual([]);
  });

  it('the plain-Node helper launcher refuses to start the Electron binary as Node', async () => {
    const { runSiJob } = await import('../../../src/main/engine/sources/siChild');
    Object.defineProperty(process.versions, 'electron', { value: '45.0.0', configurable: true });
    try {
      await expect(runSiJob('connections', { helperPath: join(ROOT, 'out', 'node', 'worker.cjs'), timeoutMs: 5000 })).rejects.toThrow(
        /cannot start the systeminformation helper: under Electron only the main process starts it/,
      );
    } finally {
      delete (process.versions as Record<string, string | undefined>).electron;
    }
  });

  it('pins the fuse wire a packaged app gets: RunAsNode off', async () => {
    const { FUSES, fuseConfig } = (await import(pathToFileURL(join(ROOT, 'scripts/fuses.mjs')).href)) as {
      FUSES: Record<string, boolean>;
      fuseConfig: (platform?: string, arch?: string) => Record<string, unknown>;
    };
    const { FuseV1Options, FuseVersion } = await import('@electron/fuses');
    const byName = Object.fromEntries(Object.entries(FUSES).map(([i, v]) => [FuseV1Options[Number(i)], v]));
    expect(byName).toEqual({
      RunAsNode: false,
      EnableCookieEncryption: true,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
      LoadBrowserProcessSpecificV8Snapshot: false,
      GrantFileProtocolExtraPrivileges: false,
    });
    expect(fuseConfig('linux', 'x64')).toEqual({ version: FuseVersion.V1, resetAdHocDarwinSignature: false, ...FUSES });
    expect(fuseConfig('darwin', 'arm64')).toMatchObject({ resetAdHocDarwinSignature: true });
  });
});
