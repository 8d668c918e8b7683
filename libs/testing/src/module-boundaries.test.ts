import { fileURLToPath } from 'node:url';
import nx from '@nx/eslint-plugin';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
/* eslint-disable @nx/enforce-module-boundaries -- the workspace lint settings are a root file, not a project */
// @ts-expect-error -- a plain ESM module shared with eslint.config.mjs, without types
import { depConstraints } from '../../../eslint.boundaries.mjs';
/* eslint-enable @nx/enforce-module-boundaries */

// The dependency direction of DESIGN.md is enforced by lint; this proves the rule fires
// with the constraints the workspace lint uses.
const root = fileURLToPath(new URL('../../../', import.meta.url));

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        // @nx/eslint-plugin's declared type predates ESLint 9's Plugin type; the object is a valid plugin
        plugins: { '@nx': nx as unknown as ESLint.Plugin },
        rules: {
          '@nx/enforce-module-boundaries': ['error', { depConstraints: depConstraints as unknown[] }],
        },
      },
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: `${root}${file}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parser'}: ${m.message}`);
}

describe('module boundaries', () => {
  it('refuses an import from proxy-core up to proxy-api', async () => {
    const errors = await boundaryErrors(
      'libs/proxy-core/src/boundary-probe.ts',
      "import { createApp } from '@switchyard/proxy-api';\nexport const probe = createApp;\n",
    );
    expect(errors.join('\n')).toMatch(/@nx\/enforce-module-boundaries: (Circular dependency|.*scope:core)/);
  });

  it('refuses a production import of the private testing lib from the app', async () => {
    const errors = await boundaryErrors(
      'apps/gateway/src/boundary-probe.ts',
      "import { createMockUpstream } from '@switchyard/testing';\nexport const probe = createMockUpstream;\n",
    );
    expect(errors.join('\n')).toMatch(
      /@nx\/enforce-module-boundaries: .*scope:app.*can only depend on libs tagged with/,
    );
  });

  it('allows proxy-api to import proxy-core', async () => {
    const errors = await boundaryErrors(
      'libs/proxy-api/src/boundary-probe.ts',
      "import { createGateway } from '@switchyard/proxy-core';\nexport const probe = createGateway;\n",
    );
    expect(errors).toEqual([]);
  });
});
