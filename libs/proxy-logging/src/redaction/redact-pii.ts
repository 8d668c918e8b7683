/** One PII pattern: what to find and what to put instead. */
export interface PiiPattern {
  name: string;
  /** Must be global (`g` flag). */
  pattern: RegExp;
  /** What replaces a match; a function may return the match itself to keep it. */
  replacement: string | ((match: string) => string);
}

/** Whether a run of digits (separators allowed) passes the Luhn check every card number passes. */
function luhnValid(text: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = text.length - 1; i >= 0; i--) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) continue;
    const value = double ? (code * 2 > 9 ? code * 2 - 9 : code * 2) : code;
    sum += value;
    double = !double;
  }
  return sum % 10 === 0;
}

/** The built-in patterns: API-key shapes first (they may contain digits), then emails, cards, phones. */
export const DEFAULT_PII_PATTERNS: readonly PiiPattern[] = [
  // an auth scheme is case-insensitive (RFC 9110): `bearer` and `BEARER` are sent too
  { name: 'bearer', pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi, replacement: 'Bearer [REDACTED_KEY]' },
  {
    name: 'api_key',
    pattern:
      /\b(?:sk|pk|rk|sk-ant|sk-proj|sk-sy|xai|gsk|AIza)[-_][A-Za-z0-9_-]{12,}|\bAIza[A-Za-z0-9_-]{30,}/g,
    replacement: '[REDACTED_KEY]',
  },
  // the local part starts where a run of its characters starts and is 64 at most (as RFC 5321
  // allows): tried from every position of a long run without an `@`, the unbounded form took
  // quadratic time (three seconds on 64 K characters)
  {
    name: 'email',
    pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,255}\.[A-Za-z]{2,}/g,
    replacement: '[REDACTED_EMAIL]',
  },
  // 13 to 19 digits, spaced or not, that pass the Luhn check (as card numbers do, and nine in
  // ten other numbers do not), unless they are a bare JSON number (after `:`, `,` or `[`, before
  // `,`, `}` or `]`): a millisecond timestamp or a seed, whose redaction would leave the stored
  // body unparsable
  {
    name: 'card',
    pattern: /\b(?!(?<=[:,[]\s*)\d{13,19}\s*[,}\]])(?:\d[ -]?){12,18}\d\b/g,
    replacement: (match) => (luhnValid(match) ? '[REDACTED_CARD]' : match),
  },
  // A phone number as people write one: with a leading `+` (international, groups of any
  // size: `+33 1 23 45 67 89`, `+49 30 12345678`), with dashes, spaces or dots between North
  // American-style groups (`(415) 555-2671`, `1 800 555 1234`, `415.555.2671`), or a national
  // number with its trunk `0` and spaces (`06 12 34 56 78`, `07700 900123`; nine digits at
  // least, so a date is not one). A bare run of digits is not one: in a JSON body it is a
  // number (`created`, token counts, seeds), and redacting it would leave the stored body
  // unparsable. Nor is a seven-digit local number without its area code (`555-2671`): it is
  // written as a range is (`100-2000 tokens`, `300-5000 words`), which prompts are full of,
  // and without the area code it names no one.
  {
    name: 'phone',
    pattern:
      /(?<![\w.+-])(?:\+\d{7,15}|\+\d{1,3}(?:[ .-]\(?\d{1,8}\)?){2,6}|(?:1[ -])?(?:\(\d{2,4}\)[ -]?|\d{2,4}[ -])\d{3,4}[ -]\d{4}|\d{3}\.\d{3}\.\d{4}|(?=(?: ?\d){9})0\d{1,4}(?: \d{2,8}){1,4})(?![\w-]|\.\d)/g,
    replacement: '[REDACTED_PHONE]',
  },
];

/** Replaces every match of the patterns (defaults plus `extra`) in a text. */
export function redactPii(text: string, patterns: readonly PiiPattern[] = DEFAULT_PII_PATTERNS): string {
  let out = text;
  for (const { pattern, replacement } of patterns)
    // the same call twice: TypeScript picks String#replace's overload (string or function) per branch
    out =
      typeof replacement === 'string' ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  return out;
}
