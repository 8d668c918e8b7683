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
    // esbuild's bundling already leaves out what nothing imports. `treeshake: true` would add
    // Rollup's pass, which also drops statements it judges free of side effects: it removed
    // `new EngineStream(stream)` (a private-field stamp through a base constructor that returns
    // its argument), so the built engine never marked its streams and every chunk was
    // serialised again, while the tests, which run the sources, passed. It saved about 1%.
    treeshake: false,
    tsconfig: 'tsconfig.lib.json',
    // a CJS build gets `import.meta.url` from `__filename` (esbuild leaves `import.meta` empty
    // there): the SQLite write thread resolves better-sqlite3 from it, and threw from CommonJS
    shims: true,
    ...overrides,
  };
}
