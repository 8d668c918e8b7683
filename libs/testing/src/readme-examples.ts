import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The output of running an example file with tsx, as a user would run the README's code. */
export function runExample(file: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 90_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Whether a README embeds an example file's code verbatim (so the README cannot drift from what runs). */
export function readmeEmbeds(readme: string, file: string): boolean {
  return readFileSync(readme, 'utf8').includes(readFileSync(file, 'utf8').trim());
}
