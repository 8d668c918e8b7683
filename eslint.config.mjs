import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';
import { depConstraints } from './eslint.boundaries.mjs';

// Tests may also use the private testing lib and compose the layers above them.
const testDepConstraints = depConstraints.map((c) => ({
  ...c,
  onlyDependOnLibsWithTags: [
    ...c.onlyDependOnLibsWithTags,
    'scope:testing',
    'scope:core',
    'scope:plugin',
    'scope:api',
    'scope:client',
  ],
}));

const testFiles = ['**/*.test.ts', '**/*.test-d.ts', '**/test/**/*.ts', '**/vitest.config.ts'];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.nx/**',
      '**/coverage/**',
      '**/__fixtures__/**',
      'docs/**',
      '**/*.mjs',
      '**/*.cjs',
      'scripts/.tmp/**',
    ],
  },
  js.configs.recommended,
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      'no-console': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints, banTransitiveDependencies: false },
      ],
    },
  },
  {
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints: testDepConstraints },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // README examples print their results, as a user's script would
    // and import the package by name, as a user's code does
    files: ['**/examples/**/*.ts'],
    rules: { 'no-console': 'off', '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // build and test runner configs import the shared root configs by relative path
    files: ['**/vitest.config.ts', '**/tsup.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    // the repository's own tools (benchmarks, the configuration reference) measure and render
    // internals: they import sources and test helpers of any project by relative path
    files: ['scripts/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  prettier,
);
