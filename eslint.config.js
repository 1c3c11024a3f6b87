// Lint rules for `npm run lint` (part of `npm test`): eslint's and typescript-eslint's recommended sets, plus the
// type-aware promise rules (a promise nobody awaits or catches is a lost error). Formatting is prettier's job.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Generated files: contracts/compile-solidity.ts, drizzle-kit, recorded workflow histories, `npm run lifecycles:schema`.
    ignores: [
      'contracts/generated/',
      'db/migrations/',
      'test/histories/',
      'app/seed/lifecycles/lifecycle.schema.json',
      '.tracewell/',
      '.data/',
      'coverage/',
    ],
  },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    rules: {
      // `_name` marks a value left out on purpose (`const { secret: _secret, ...rest } = row`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // A binding a closure reads before it is assigned (`let document` in api/app.ts) cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Clients of the API's JSON answers (tests, the CLI, benches, the demo) read them untyped.
    files: ['test/**', 'tools/**', 'app/cli/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
