import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.next/**',
      '**/.data/**',
      '**/coverage/**',
      'storefront/next-env.d.ts',
      'ops/bench/results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through loadConfig(env), not process.env.',
        },
      ],
    },
  },
  {
    // Entry points, tests, scripts and browser builds may read the environment.
    files: [
      '**/*.test.ts',
      '**/test/**',
      '**/server.ts',
      '**/worker.ts',
      '**/main.ts',
      '**/cli.ts',
      'ops/**',
      '**/*.config.ts',
      '**/*.mjs',
      'console/src/**',
      'storefront/**',
      'db/src/testing.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['console/src/**', 'storefront/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
