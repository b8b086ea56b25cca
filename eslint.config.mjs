import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Layers (see DESIGN.md): shared <- engine <- (electron | server | cli); preload -> shared; renderer -> shared. */
const noNodeOrElectron = {
  patterns: [
    { group: ['electron', 'electron/*'], message: 'shared/ and engine/ never import electron.' },
  ],
};

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test/fixtures/**', 'bench/results/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**', 'scripts/**', '*.config.*'],
    rules: { '@typescript-eslint/explicit-module-boundary-types': 'off' },
  },
  {
    files: ['bin/portwatch', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['scripts/**/*.mjs', 'bench/**/*.mjs'],
    // node, plus the functions they hand to the browser through page.evaluate
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron', 'electron/*', 'node:*', 'fs', 'path', 'os', 'child_process'], message: 'shared/ is pure: no node, electron or DOM.' },
            { group: ['**/main/**', '**/renderer/**', '**/preload/**'], message: 'shared/ depends on nothing.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/main/engine/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...noNodeOrElectron.patterns, { group: ['**/cli/**', '**/server/**', '**/electron/**'], message: 'the engine knows no host.' }] },
      ],
    },
  },
  {
    files: ['src/renderer/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['src/renderer/**', 'src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/main/**'], message: 'renderer and preload talk to main only through PortwatchApi.' }] }],
    },
  },
);
