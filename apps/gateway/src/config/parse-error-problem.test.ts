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

  it('refuses a key given twice in one JSON object as YAML does, with the line and column of the second (JSON.parse kept the last: a second admin section dropped the master key and the gateway ran open)', async () => {
    const file = `{"providers": [{"name": "mock", "type": "mock"}],\n "admin": {"masterKey": "${SECRET}"},\n  "admin": {"keySecret": "fedcba9876543210fedc"}}`;
    const problems = await parseProblems('dup.json', file);
    expect(problems).toEqual(['cannot parse the file: JSON error DUPLICATE_KEY at line 3, column 3']);
    expect(problems.join('\n')).not.toContain(SECRET);
    // the same file as YAML names the same place, with yaml's code
    expect(await parseProblems('dup.yaml', file)).toEqual([
      'cannot parse the file: YAML error DUPLICATE_KEY at line 3, column 3',
    ]);
    // nested, after escapes that spell the same key, and in an object inside a list
    expect(await parseProblems('nested.json', '{"a": {"b": 1, "c": "x\\"y:", "\\u0062": 2}}')).toEqual([
      'cannot parse the file: JSON error DUPLICATE_KEY at line 1, column 30',
    ]);
    expect(await parseProblems('list.json', '[{"k": 1}, {"k": 2, "k": 3}]')).toEqual([
      'cannot parse the file: JSON error DUPLICATE_KEY at line 1, column 21',
    ]);
  });

  it('takes the same key in sibling objects, and a value that reads like a key', async () => {
    const path = join(dir, 'siblings.json');
    writeFileSync(path, '{"a": {"k": 1}, "b": {"k": 2}, "c": ["k", "k"], "d": "a", "e": {"a": "a"}}');
    expect(await readConfigFile(path)).toEqual({
      a: { k: 1 },
      b: { k: 2 },
      c: ['k', 'k'],
      d: 'a',
      e: { a: 'a' },
    });
  });
});
