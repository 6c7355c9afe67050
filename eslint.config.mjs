import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Adapters (one file per technology) are named after it; only composition roots (an app's
 * main.ts, the CLI's commands, tests) may import them, so handlers and libraries depend on ports.
 */
const ADAPTER_NAMES = '^(InMemory|Sqlite|LocalDir|Kafka|Mongo|GridFs)[A-Z]';

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '**/tmp/**', '**/.nx/**', '**/coverage/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  // The plain-JavaScript scripts (tools/services/*.mjs, tools/test.mjs) are linted too.
  ...nx.configs['flat/javascript'],
  // Without a type checker over them, a misspelt name in a script is only caught here.
  { files: ['**/*.mjs'], rules: { 'no-undef': 'error' } },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // noUncheckedIndexedAccess makes `!` the honest way to say an index is known to exist.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Project sources; project config files (vitest.config.ts) may reach the workspace root.
    files: ['**/src/**/*.ts', '**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          banTransitiveDependencies: true,
          allow: [],
          depConstraints: [
            // The contract (message shapes, model configuration) imports nothing from the workspace.
            { sourceTag: 'type:contract', onlyDependOnLibsWithTags: ['type:none'] },
            { sourceTag: 'type:port', onlyDependOnLibsWithTags: ['type:contract', 'type:port'] },
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:contract', 'type:port'] },
            // The distributed composition shared by the stage services: adapters chosen from the environment.
            { sourceTag: 'type:composition', onlyDependOnLibsWithTags: ['type:contract', 'type:port', 'type:runtime'] },
            {
              sourceTag: 'type:engine',
              onlyDependOnLibsWithTags: ['type:contract', 'type:port'],
            },
            {
              sourceTag: 'type:stage',
              onlyDependOnLibsWithTags: ['type:contract', 'type:port', 'type:runtime', 'type:engine', 'type:composition'],
            },
            // Apps never import apps: every tag an app may depend on is a library tag.
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:contract',
                'type:port',
                'type:runtime',
                'type:engine',
                'type:stage',
                'type:composition',
              ],
            },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    ignores: ['apps/*/src/main.ts', 'apps/cli/src/**', 'libs/platform/src/**', '**/bench/**', '**/*.test.ts', '**/test/**', '**/testing.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@apo/*'],
              importNamePattern: ADAPTER_NAMES,
              message:
                'Adapters are chosen by composition roots (an app main.ts or the CLI); depend on the port instead.',
            },
          ],
        },
      ],
    },
  },
];
