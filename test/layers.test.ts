import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths';

/** Lint errors of the layers rule for `code` as if it were the file at `path` (relative to the repository). */
async function layerErrors(path: string, code: string): Promise<string[]> {
  // the planted files exist in no tsconfig: the type-aware rules (promises) are off for them, the layers are not
  const eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false, project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
    },
  });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'layers/allowed-imports').map((m) => m.message);
}

describe('the layers are an allow-list, enforced by lint', () => {
  it('refuses a planted import that crosses a layer the wrong way', async () => {
    const planted: Array<[string, string, RegExp]> = [
      ['src/shared/planted.ts', "import { readFileSync } from 'node:fs';", /shared may not import Node's node:fs/],
      ['src/shared/planted.ts', "import { Monitor } from '../main/engine/monitor';", /shared may not import the engine layer/],
      ['src/main/engine/planted.ts', "import { app } from 'electron';", /engine may not import the package electron/],
      ['src/main/engine/planted.ts', "import { startServer } from '../server';", /engine may not import the server layer/],
      ['src/main/engine/planted.ts', "import { EngineApi } from '../api/engineApi';", /engine may not import the api layer/],
      ['src/main/api/planted.ts', "import { bindIpc } from '../electron/ipc';", /api may not import the electron layer/],
      ['src/main/api/planted.ts', "import { main } from '../cli/main';", /api may not import the cli layer/],
      ['src/main/server/planted.ts', "import { BrowserWindow } from 'electron';", /server may not import the package electron/],
      ['src/main/server/planted.ts', "export * from '../cli/args';", /server may not import the cli layer/],
      ['src/renderer/src/planted.ts', "import { Monitor } from '../../main/engine/monitor';", /renderer may not import the engine layer/],
      ['src/renderer/src/planted.ts', "import WebSocket from 'ws';", /renderer may not import the package ws/],
      ['src/renderer/src/planted.ts', "const fs = await import('node:fs');", /renderer may not import Node's node:fs/],
      ['src/preload/planted.ts', "const cp = require('node:child_process');", /preload may not import Node's node:child_process/],
      ['src/main/electron/planted.ts', "import { serve } from '../cli/index';", /electron may not import the cli layer/],
      [
        'src/main/server/planted.ts',
        "import { UserDirectory } from '../engine/users';",
        /server may not import engine internals \(\.\.\/engine\/users\): import the engine's public surface/,
      ],
      ['src/main/index.ts', "import { MonitorHost } from './engine/monitorHost';", /electron-main may not import engine internals/],
      ['src/main/engine/planted.ts', "import leftpad from 'left-pad';", /engine may not import the package left-pad/],
      ['src/main/engine/planted.ts', "import { render } from 'ink';", /engine may not import the package ink/],
      ['src/main/server/planted.ts', "import { createElement } from 'react';", /server may not import the package react/],
    ];
    for (const [path, code, want] of planted) {
      const errors = await layerErrors(path, `${code}\nexport const x = 1;\n`);
      expect(errors, `${path}: ${code}`).toHaveLength(1);
      expect(errors[0], `${path}: ${code}`).toMatch(want);
    }
  });

  it('lets each layer import what it may', async () => {
    const fine: Array<[string, string]> = [
      ['src/shared/planted.ts', "import { z } from 'zod';\nimport type { Socket } from './model';"],
      ['src/main/engine/planted.ts', "import { readFileSync } from 'node:fs';\nimport type { Socket } from '../../shared/model';"],
      ['src/main/api/planted.ts', "import { Monitor } from '../engine';\nimport { dispatch } from '../../shared/contract';"],
      ['src/main/cli/planted.ts', "import { NetlinkSource } from '../engine/sources/netlink';"],
      ['src/main/server/planted.ts', "import { EngineApi } from '../api/engineApi';\nimport { WebSocketServer } from 'ws';"],
      ['src/main/cli/planted.ts', "import { startServer } from '../server';"],
      ['src/main/cli/top/planted.ts', "import { render, Text } from 'ink';\nimport { createElement } from 'react';"],
      ['src/main/index.ts', "import { app } from 'electron';\nimport { bindIpc } from './electron/ipc';"],
      ['src/renderer/src/planted.tsx', "import { useState } from 'react';\nimport { createRoot } from 'react-dom/client';"],
    ];
    for (const [path, code] of fine) expect(await layerErrors(path, `${code}\nexport const x = 1;\n`), `${path}: ${code}`).toEqual([]);
  });
});
