// Dependency direction of DESIGN.md: arrows only point down. Shared by eslint.config.mjs
// and the test that proves the rule fires (libs/testing/src/module-boundaries.test.ts).
export const depConstraints = [
  { sourceTag: 'scope:core', onlyDependOnLibsWithTags: ['scope:core'] },
  { sourceTag: 'scope:plugin', onlyDependOnLibsWithTags: ['scope:core'] },
  { sourceTag: 'scope:api', onlyDependOnLibsWithTags: ['scope:core', 'scope:plugin'] },
  { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:api', 'scope:core', 'scope:plugin'] },
  { sourceTag: 'scope:client', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: [] },
];
