// `npm run lint`: the layering the README describes, checked by machine (which folder may import
// which), plus a few correctness rules. No style rules: formatting is a formatter's job.
//
// Layers: webview → src/protocol ← src → model-runtime (its public index only), training/launcher.
// Relative imports are checked on the resolved file (import-x/no-restricted-paths), so it does not
// matter how many `../` an import spells; bare specifiers (vscode, npm packages, node:) are checked
// by name (no-restricted-imports), since `vscode` resolves to no file at all.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Zones are resolved against this folder, not the process's cwd, so the config means the same from anywhere. */
const root = path.dirname(fileURLToPath(import.meta.url));

const NO_VSCODE = { name: 'vscode', message: 'Only src/ (the extension host) may import vscode.' };

export default defineConfig(
  {
    ignores: ['dist/**', 'dist-vsix/**', '.cache/**', '.venv/**', 'test-results/**', '.vscode-test/**', 'model-runtime/assets/**', 'samples/**'],
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.mjs', '**/*.cjs'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: { 'import-x': importX, '@typescript-eslint': tseslint.plugin },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.mts', '.mjs', '.js', '.cjs', '.json', '.node'] })],
      // no-cycle follows imports into other files: it must be able to parse TypeScript there.
      'import-x/extensions': ['.ts', '.mts', '.mjs', '.js', '.cjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.mts'] },
    },
    // The code already carries disable comments for rules of typescript-eslint's recommended set,
    // which this config leaves off; they are not errors here.
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      // The path rules skip what they cannot resolve: every import must resolve for them to see it.
      'import-x/no-unresolved': ['error', { ignore: ['^vscode$'] }],
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: root,
          zones: [
            {
              target: './model-runtime',
              from: ['./src', './training', './webview'],
              message: 'model-runtime is a pure Node library: it knows nothing of the extension, training or the panels.',
            },
            {
              target: './training/launcher',
              from: ['./src', './webview'],
              message: 'The launcher has no vscode side: src/ adapts it, not the other way round.',
            },
            {
              target: './webview',
              from: '.',
              except: ['./webview', './src/protocol', './node_modules'],
              message: 'The panels talk to the host through src/protocol only.',
            },
            {
              target: './src/protocol',
              from: '.',
              except: ['./src/protocol'],
              message: 'src/protocol is the neutral ground the host and the panels share: it imports nothing outside itself.',
            },
            {
              target: ['./src', './bench'],
              from: './model-runtime',
              except: ['./src/index.ts'],
              message: 'Use the runtime through its public API, model-runtime/src/index.ts (add an export there if something is missing).',
            },
          ],
        },
      ],
      'import-x/no-self-import': 'error',

      // Correctness only; each of these flags a bug, never a matter of taste.
      'no-async-promise-executor': 'error',
      'no-compare-neg-zero': 'error',
      'no-cond-assign': ['error', 'except-parens'],
      'no-constant-binary-expression': 'error',
      'no-debugger': 'error',
      'no-dupe-else-if': 'error',
      'no-duplicate-case': 'error',
      'no-empty-character-class': 'error',
      'no-empty-pattern': 'error',
      'no-invalid-regexp': 'error',
      'no-loss-of-precision': 'error',
      'no-misleading-character-class': 'error',
      'no-self-assign': 'error',
      'no-self-compare': 'error',
      'no-sparse-arrays': 'error',
      'no-unsafe-finally': 'error',
      'no-unsafe-negation': 'error',
      'no-unsafe-optional-chaining': 'error',
      'no-unreachable-loop': 'error',
      'no-useless-backreference': 'error',
      'use-isnan': 'error',
      'valid-typeof': 'error',
      '@typescript-eslint/no-duplicate-enum-values': 'error',
      '@typescript-eslint/no-extra-non-null-assertion': 'error',
      '@typescript-eslint/no-misused-new': 'error',
      '@typescript-eslint/no-non-null-asserted-optional-chain': 'error',
      '@typescript-eslint/no-unsafe-declaration-merging': 'error',
    },
  },
  {
    files: ['model-runtime/**', 'training/launcher/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_VSCODE] }] },
  },
  {
    // The panels are browser bundles: their own files, src/protocol (relative, checked above) and
    // the browser libraries they bundle.
    files: ['webview/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\.|uplot$)', message: 'A panel may import its own files, src/protocol and uplot; nothing of Node or VS Code.' }] },
      ],
    },
  },
  {
    files: ['src/protocol/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\.)', message: 'src/protocol imports nothing outside itself: no vscode, Node or npm packages.' }] }],
      // Both sides import these files one by one; a cycle would tie their load order together.
      'import-x/no-cycle': 'error',
    },
  },
);
