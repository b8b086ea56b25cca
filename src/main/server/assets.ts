import { lstat, readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

/**
 * The built renderer, read once at start and served from memory: no file is opened per request, so running
 * out of descriptors, or the directory changing under a running server, cannot fail (or crash) a page load.
 */

export interface Asset {
  body: Buffer;
  type: string;
}

export interface AssetLimits {
  maxFiles: number;
  maxBytes: number;
}

/** The renderer build is about a megabyte; these leave room and still bound what a wrong --static could pull in. */
export const DEFAULT_ASSET_LIMITS: AssetLimits = { maxFiles: 2000, maxBytes: 64 << 20 };

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/**
 * Reads every regular file under `dir` into a map keyed by URL path ('/index.html', '/assets/x.js').
 * Symbolic links and other non-regular files are skipped, so nothing outside `dir` is served. Throws when
 * the directory is over `limits`.
 */
export async function loadAssets(dir: string, limits: AssetLimits = DEFAULT_ASSET_LIMITS): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  let bytes = 0;
  const walk = async (abs: string, urlPath: string): Promise<void> => {
    for (const name of (await readdir(abs)).sort()) {
      const file = join(abs, name);
      const st = await lstat(file);
      if (st.isDirectory()) {
        await walk(file, `${urlPath}${name}/`);
        continue;
      }
      if (!st.isFile()) continue;
      if (assets.size >= limits.maxFiles) throw new Error(`${dir} holds more than ${limits.maxFiles} files: is it the built renderer?`);
      bytes += st.size;
      if (bytes > limits.maxBytes) throw new Error(`${dir} holds more than ${limits.maxBytes} bytes: is it the built renderer?`);
      assets.set(`${urlPath}${name}`, { body: await readFile(file), type: MIME[extname(name)] ?? 'application/octet-stream' });
    }
  };
  await walk(dir, '/');
  return assets;
}
