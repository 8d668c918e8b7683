import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';

const DOCS = new URL('../../../../docs/', import.meta.url);

/** Every YAML a reader may copy from docs/: the yaml blocks and the inline `section: { ... }` flow maps. */
function yamlSnippets(): { where: string; text: string }[] {
  const files = readdirSync(DOCS, { recursive: true, encoding: 'utf8' }).filter((name) =>
    name.endsWith('.md'),
  );
  return files.flatMap((name) => {
    const text = readFileSync(new URL(name, DOCS), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => ({
      where: `${name} (yaml block)`,
      text: match[1] ?? '',
    }));
    const inline = [...text.matchAll(/`([A-Za-z][A-Za-z0-9]*: \{[^`]*\})`/g)].map((match) => ({
      where: `${name}: ${match[1] ?? ''}`,
      text: match[1] ?? '',
    }));
    return [...blocks, ...inline];
  });
}

describe('YAML in the docs', () => {
  it('parses, ${VAR} references in flow maps included', () => {
    const snippets = yamlSnippets();
    expect(snippets.length).toBeGreaterThan(10);
    const broken = snippets
      .filter((snippet) => parseDocument(snippet.text).errors.length > 0)
      .map((snippet) => snippet.where);
    expect(broken).toEqual([]);
  });
});
