// Flat config: typescript-eslint's recommended rules over all TypeScript sources.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'theme/**', 'test-results/**', 'playwright-report/**', '.kong-portal-monetization/**', 'bench/results.json', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/sandbox/theme/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, jQuery: 'readonly', $: 'readonly' } },
  },
);
