import nx from '@nx/eslint-plugin';

const drivers = ['@nestjs/*', 'kafkajs', 'arangojs', '@clickhouse/*', 'chdb', 'better-sqlite3', '@grpc/*', 'prom-client', '@opentelemetry/*', 'testcontainers'];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/.data', '**/.nx', 'tmp', 'tools/kafka/.cache', '**/generated/**'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          // The benchmarks measure the all-in-one composition itself, not a copy of its wiring.
          allow: ['@topology/all-in-one'],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:runtime', 'type:adapter', 'type:domain', 'type:contracts', 'type:util', 'type:tools'] },
            { sourceTag: 'type:runtime', onlyDependOnLibsWithTags: ['type:runtime', 'type:adapter', 'type:domain', 'type:contracts', 'type:util', 'type:testing'] },
            { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:adapter', 'type:domain', 'type:contracts', 'type:util', 'type:testing'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'] },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'],
              bannedExternalImports: drivers,
            },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts', 'type:util'], bannedExternalImports: drivers },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'], bannedExternalImports: drivers },
            { sourceTag: 'type:tools', onlyDependOnLibsWithTags: ['type:app', 'type:tools', 'type:runtime', 'type:adapter', 'type:domain', 'type:contracts', 'type:util', 'type:testing'] },
            { sourceTag: 'scope:network', onlyDependOnLibsWithTags: ['scope:network', 'scope:shared'] },
            { sourceTag: 'scope:application', onlyDependOnLibsWithTags: ['scope:application', 'scope:shared'] },
            { sourceTag: 'scope:request', onlyDependOnLibsWithTags: ['scope:request', 'scope:shared'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
];
