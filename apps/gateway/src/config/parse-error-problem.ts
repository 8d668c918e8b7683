import { YAMLParseError } from 'yaml';

/**
 * What is wrong with a config file that does not parse, for `ConfigError`: the parser's reason,
 * line and column, never the text around them. The parsers quote the offending line (yaml) or
 * the start of the file (`JSON.parse`), which can hold a secret (`masterKey: sk-...`), and
 * `config validate --json` prints problems where CI logs keep them.
 */
export function parseErrorProblem(error: unknown, text: string): string {
  if (error instanceof YAMLParseError) {
    const where = error.linePos?.[0];
    // the code (yaml's documented error codes), not the message, which quotes the line
    const reason = `YAML error ${error.code}`;
    return where === undefined ? reason : `${reason} at line ${where.line}, column ${where.col}`;
  }
  const message = error instanceof Error ? error.message : '';
  // V8's reasons with a position are the grammar's own words ("Unterminated string in JSON at
  // position 9"); the others quote the file ("Unexpected token 's', "{"a": sk-..." is not valid JSON")
  const positioned = /^(.+?) in JSON at position (\d+)/.exec(message);
  if (positioned !== null) return `${positioned[1]} at ${lineAndColumn(text, Number(positioned[2]))}`;
  if (message.startsWith('Unexpected end of JSON input')) return 'unexpected end of the JSON text';
  if (message.startsWith('Unexpected token')) return 'an unexpected token: not valid JSON';
  if (message.startsWith('Unresolved alias')) return 'an alias names an anchor not set before it';
  return error instanceof Error ? error.name : 'not YAML or JSON';
}

/** `line L, column C` (from 1) of the character at `offset` of `text`. */
export function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${(before.at(-1) ?? '').length + 1}`;
}
