import type { Options } from 'tsup';

/**
 * The one tsup configuration every published lib builds with: ESM + CJS, bundled
 * declarations for both, Node 20 syntax, dependencies left external.
 */
export function libraryBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    treeshake: true,
    tsconfig: 'tsconfig.lib.json',
    ...overrides,
  };
}
