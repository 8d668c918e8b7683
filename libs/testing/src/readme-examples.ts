import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The output of running an example file with tsx, as a user would run the README's code. */
export function runExample(file: string): { status: number | null; stdout: string; stderr: string } {
  // plain text whatever the runner sets (nx and CI set FORCE_COLOR, which colours what console.log inspects)
  const { FORCE_COLOR: _forced, ...env } = process.env;
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], {
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...env, NO_COLOR: '1' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Whether a README embeds an example file's code verbatim (so the README cannot drift from what runs). */
export function readmeEmbeds(readme: string, file: string): boolean {
  return readFileSync(readme, 'utf8').includes(readFileSync(file, 'utf8').trim());
}

/** Options of {@link describeReadmeExample}. */
export interface ReadmeExampleOptions {
  /** The example file, e.g. `new URL('./quick-start.ts', import.meta.url)`. */
  example: URL;
  /** The README that embeds it. */
  readme: URL;
  /** Checks what the example printed (it already ran without error output and exited 0). */
  expectOutput: (stdout: string) => void;
  /** Time the run may take, ms. @default the test timeout */
  timeoutMs?: number;
}

/**
 * A lib's README example test: the README embeds the example verbatim, and the example runs
 * (with tsx, as a user would) without error output, exits 0 and prints what `expectOutput` checks.
 */
export function describeReadmeExample(options: ReadmeExampleOptions): void {
  const example = fileURLToPath(options.example);
  describe('README example', () => {
    it('is embedded verbatim in the README', () => {
      expect(readmeEmbeds(fileURLToPath(options.readme), example)).toBe(true);
    });

    it(
      'runs',
      () => {
        const result = runExample(example);
        expect(result.stderr).toBe('');
        expect(result.status).toBe(0);
        options.expectOutput(result.stdout);
      },
      options.timeoutMs,
    );
  });
}
