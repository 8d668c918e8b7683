import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import { readConfigFile } from './load-config';

const SECRET = 'sk-live-MASTER-SECRET-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'switchyard-parse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function parseProblems(name: string, text: string): Promise<string[]> {
  const path = join(dir, name);
  writeFileSync(path, text);
  const error = await readConfigFile(path).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

describe('a config file that does not parse', () => {
  it('is reported with the YAML reason, line and column, never the offending line with its secret (config validate --json printed the master key)', async () => {
    expect(await parseProblems('indent.yaml', `admin:\n  masterKey: ${SECRET}\n   keySecret: x\n`)).toEqual([
      'cannot parse the file: YAML error BLOCK_AS_IMPLICIT_KEY at line 2, column 14',
    ]);
    const [quote] = await parseProblems('quote.yaml', `admin:\n  masterKey: "${SECRET}\nproviders: [\n`);
    expect(quote).toMatch(/^cannot parse the file: YAML error MISSING_CHAR at line \d+, column \d+$/);
    const [compact] = await parseProblems('compact.yaml', `providers:\n- name: o\n  apiKey: ${SECRET}: x\n`);
    expect(compact).toMatch(/^cannot parse the file: YAML error [A-Z_]+ at line 3, column \d+$/);
  });

  it('is reported with the JSON reason and where, never the start of the file', async () => {
    expect(await parseProblems('comma.json', `{"admin": {"masterKey": "${SECRET}"\n "x": 1}}`)).toEqual([
      "cannot parse the file: Expected ',' or '}' after property value at line 2, column 2",
    ]);
    const token = await parseProblems('token.json', `{"admin": {"masterKey": ${SECRET}}}`);
    expect(token).toEqual(['cannot parse the file: an unexpected token: not valid JSON']);
    expect(await parseProblems('alias.yaml', `admin: *${SECRET}\n`)).toEqual([
      'cannot parse the file: an alias names an anchor not set before it',
    ]);
  });
});
