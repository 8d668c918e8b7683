import { fileURLToPath } from 'node:url';
import { defineConfig, type ViteUserConfig } from 'vitest/config';

const lib = (name: string): string => fileURLToPath(new URL(`./libs/${name}/src/index.ts`, import.meta.url));

/** Shared vitest settings: workspace packages resolve to their sources, so tests need no build. */
export function libraryTests(overrides: ViteUserConfig['test'] = {}): ViteUserConfig {
  return defineConfig({
    resolve: {
      alias: {
        '@switchyard/proxy-core': lib('proxy-core'),
        '@switchyard/proxy-api': lib('proxy-api'),
        '@switchyard/proxy-logging': lib('proxy-logging'),
        '@switchyard/proxy-context': lib('proxy-context'),
        // before the package itself: aliases match by prefix, first match wins
        '@switchyard/proxy-client/undici': fileURLToPath(
          new URL('./libs/proxy-client/src/undici.ts', import.meta.url),
        ),
        '@switchyard/proxy-client': lib('proxy-client'),
        '@switchyard/testing': lib('testing'),
      },
    },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
      environment: 'node',
      testTimeout: 20_000,
      hookTimeout: 20_000,
      pool: 'forks',
      // expect.poll's default bound (1 s) fails tests on CI's two loaded cores; a poll that passes
      // returns as soon as its condition holds (UNTIL_SETTLED in @switchyard/testing does this for vi.waitFor)
      expect: { poll: { timeout: 10_000 } },
      typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
      ...overrides,
    },
  });
}
