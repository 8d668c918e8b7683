/** One PII pattern: what to find and what to put instead. */
export interface PiiPattern {
  name: string;
  /** Must be global (`g` flag). */
  pattern: RegExp;
  replacement: string;
}

/** The built-in patterns: API-key shapes first (they may contain digits), then emails, cards, phones. */
export const DEFAULT_PII_PATTERNS: readonly PiiPattern[] = [
  { name: 'bearer', pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/g, replacement: 'Bearer [REDACTED_KEY]' },
  { name: 'api_key', pattern: /\b(?:sk|pk|rk|sk-ant|sk-proj|sk-sy|xai|gsk|AIza)[-_][A-Za-z0-9_-]{12,}|\bAIza[A-Za-z0-9_-]{30,}/g, replacement: '[REDACTED_KEY]' },
  { name: 'email', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, replacement: '[REDACTED_EMAIL]' },
  { name: 'card', pattern: /\b(?:\d[ -]?){12,18}\d\b/g, replacement: '[REDACTED_CARD]' },
  // A phone number as people write one: with a leading `+` (international, groups of any
  // size: `+33 1 23 45 67 89`, `+49 30 12345678`), with dashes, spaces or dots between North
  // American-style groups (`(415) 555-2671`, `1 800 555 1234`, `415.555.2671`), or a national
  // number with its trunk `0` and spaces (`06 12 34 56 78`, `07700 900123`; nine digits at
  // least, so a date is not one). A bare run of digits is not one: in a JSON body it is a
  // number (`created`, token counts, seeds), and redacting it would leave the stored body
  // unparsable.
  {
    name: 'phone',
    pattern:
      /(?<![\w.+-])(?:\+\d{7,15}|\+\d{1,3}(?:[ .-]\(?\d{1,8}\)?){2,6}|(?:1[ -])?(?:(?:\(\d{2,4}\)[ -]?|\d{2,4}[ -])\d{3,4}|\d{3})[ -]\d{4}|\d{3}\.\d{3}\.\d{4}|(?=(?: ?\d){9})0\d{1,4}(?: \d{2,8}){1,4})(?![\w-]|\.\d)/g,
    replacement: '[REDACTED_PHONE]',
  },
];

/** Replaces every match of the patterns (defaults plus `extra`) in a text. */
export function redactPii(text: string, patterns: readonly PiiPattern[] = DEFAULT_PII_PATTERNS): string {
  let out = text;
  for (const { pattern, replacement } of patterns) out = out.replace(pattern, replacement);
  return out;
}
