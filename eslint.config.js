// ESLint (flat config) for the whole repository: `npm run lint`, run by .ci/run before the tests.
//
// typescript-eslint with type information (the project service reads each folder's tsconfig.json), for the
// rules that catch real bugs only types can show: a promise nobody awaits or catches, an async function
// where a void callback is expected, `await` on something that is not a promise. On top of that the
// recommended syntactic rules of ESLint and typescript-eslint (unused variables and imports, …). The
// `no-unsafe-*` family and `require-await` of the type-checked presets are not used: they flag the
// `JSON.parse`/`res.json()` of tests and async functions that implement an interface, not bugs.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'build/**', 'coverage/**', '.tap/**', 'web/public/**'],
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        // Each file is typed by its package's tsconfig.json, as tsc -b types it. The two files in none
        // (deploy/release-agent.ts, the Vite config) get the repository's compiler options.
        projectService: { allowDefaultProject: ['deploy/*.ts', 'web/vite.config.ts'], defaultProject: 'tsconfig.base.json' },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Type-aware: promises.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // tap runs `t.test(…)` subtests in order and awaits them itself; the plan does not need an await.
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'todo', 'skip'], package: '@tapjs/test' },
            { from: 'package', name: 'only', package: '@tapjs/filter' },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Type-aware: a cast the compiler already knows is a cast that hides the next real change of type.
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // Unused names: `_`-prefixed ones are deliberate (a callback's unused parameter, a rest sibling).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Tests and benchmarks read HTTP answers and private fields loosely on purpose; what they read, they assert.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
