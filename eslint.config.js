// One lint setup for the whole monorepo: typescript-eslint's recommended rules, with
// formatting left to prettier.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/data/**', 'coverage/**', 'bench/.work/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
        { selector: 'TSEnumDeclaration', message: 'Use an `as const` object.' },
      ],
    },
  },
  // The dashboard's script runs in browsers (services/api/src/dashboard, served as is).
  { files: ['services/api/src/dashboard/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
  prettier,
  // Tool config files must default-export.
  { files: ['*.config.{js,ts}', '**/*.config.{js,ts}'], rules: { 'no-restricted-syntax': 'off' } },
);
