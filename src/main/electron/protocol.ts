import type { Protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { CSP } from '../../shared/csp';

/**
 * The renderer is served from a privileged custom scheme, not file://: a file:// page shares its origin with
 * every file on the disk, while app://portwatch is one origin that holds the built renderer and nothing else.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'portwatch';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The page the window loads, and the only URL the IPC sender check accepts in a packaged app. */
export const APP_URL = `${APP_ORIGIN}/index.html`;

/**
 * Registers app:// as a standard, secure scheme that fetch() may use. Electron accepts this only before the app
 * is ready, so the entry calls it at load time.
 */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** The content type served for a file name; unknown extensions are opaque bytes (with nosniff, never run). */
export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export type AppPath = { ok: true; file: string } | { ok: false; status: 403 | 404 };

/**
 * Maps an app:// URL to a file under `root`, or refuses it: another host, a path that cannot be decoded or
 * holds a NUL, or one that resolves outside `root` (`..`, encoded or not) is refused.
 */
export function resolveAppPath(root: string, url: string): AppPath {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, status: 404 };
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return { ok: false, status: 404 };
  let path: string;
  try {
    path = decodeURIComponent(u.pathname);
  } catch {
    return { ok: false, status: 404 };
  }
  if (path.includes('\0')) return { ok: false, status: 403 };
  if (path === '/' || path === '') path = '/index.html';
  const base = resolve(root);
  const file = resolve(base, `.${path}`);
  if (!file.startsWith(base + sep)) return { ok: false, status: 403 };
  return { ok: true, file };
}

/**
 * The app:// handler: files under `root` (out/renderer) only, each with its content type, the CSP and nosniff.
 * Anything else is a 403 or 404 with an empty body.
 */
export function appProtocolHandler(root: string, read: (file: string) => Promise<Buffer> = readFile): (request: { url: string }) => Promise<Response> {
  return async (request) => {
    const p = resolveAppPath(root, request.url);
    if (!p.ok) return new Response(null, { status: p.status });
    let body: Buffer;
    try {
      body = await read(p.file);
    } catch {
      return new Response(null, { status: 404 });
    }
    return new Response(new Uint8Array(body), {
      status: 200,
      headers: { 'Content-Type': contentTypeOf(p.file), 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' },
    });
  };
}

export interface RendererUrlContext {
  /** `app.isPackaged`: a packaged app never loads a dev server, whatever its environment says. */
  isPackaged: boolean;
  /** The build's mode: `import.meta.env.DEV`, which vite replaces by `false` in `electron-vite build`. */
  dev: boolean;
  /** `ELECTRON_RENDERER_URL`, which `electron-vite dev` sets to its dev server (and nothing else sets). */
  devServerUrl: string | undefined;
}

/**
 * The URL the window loads: the dev server only in an unpackaged development build, and only an http(s) URL;
 * app://portwatch/index.html otherwise. Normalised, so the IPC sender check compares like with like.
 */
export function rendererUrl(ctx: RendererUrlContext): string {
  if (ctx.isPackaged || !ctx.dev || !ctx.devServerUrl) return APP_URL;
  try {
    const u = new URL(ctx.devServerUrl);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : APP_URL;
  } catch {
    return APP_URL;
  }
}
