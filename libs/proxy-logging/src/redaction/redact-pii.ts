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

/**
 * The shapes of API keys and tokens, as one pattern (one pass over a body, however many shapes).
 * Each starts at a word boundary, and most have a prefix no word has and a length no identifier
 * reaches, so `ghost`, `hf_hub_download` or `AKIAbc` are left alone.
 */
const API_KEY = new RegExp(
  [
    // OpenAI (`sk-proj-`), Anthropic (`sk-ant-`), DeepSeek, OpenRouter (`sk-or-`), ElevenLabs
    // (`sk_`), Stripe (`sk_live_`, `pk_`, `rk_`), the gateway's own (`sk-sy-`), xAI, Groq
    String.raw`\b(?:sk|pk|rk|xai|gsk|AIza)[-_][A-Za-z0-9_-]{12,}`,
    // Google API keys: `AIza` and 35 more
    String.raw`\bAIza[A-Za-z0-9_-]{30,}`,
    // Hugging Face access tokens: `hf_` and 34 letters
    String.raw`\bhf_[A-Za-z0-9]{30,}`,
    // GitHub tokens: personal (`ghp_`), OAuth (`gho_`), user-to-server (`ghu_`), server-to-server
    // (`ghs_`) and refresh (`ghr_`) ones with 36 more, and fine-grained personal ones (`github_pat_`)
    String.raw`\bgh[pousr]_[A-Za-z0-9]{30,}`,
    String.raw`\bgithub_pat_[A-Za-z0-9_]{22,}`,
    // AWS access key ids: long-term (`AKIA`) and temporary (`ASIA`), 20 upper-case letters and digits
    String.raw`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`,
    // Slack bot, user, app, refresh and rotating tokens (`xoxb-123-...`), and app-level ones (`xapp-1-...`)
    String.raw`\bxox[abeprs]-\d+-[A-Za-z0-9-]{8,}`,
    String.raw`\bxapp-\d+-[A-Za-z0-9-]{8,}`,
    // Perplexity (`pplx-`), Replicate (`r8_`), Pinecone (`pcsk_`), Stripe webhook secrets (`whsec_`)
    String.raw`\b(?:pplx-|r8_|pcsk_|whsec_)[A-Za-z0-9_]{24,}`,
    // SendGrid: `SG.`, the key id, `.`, the secret
    String.raw`\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}`,
  ].join('|'),
  'g',
);

/** The built-in patterns: API-key shapes first (they may contain digits), then emails, cards, phones. */
export const DEFAULT_PII_PATTERNS: readonly PiiPattern[] = [
  // an auth scheme is case-insensitive (RFC 9110): `bearer` and `BEARER` are sent too. A `/` of
  // the token may be written `\/` (JSON as PHP writes it), or `\\\/` in JSON held in a JSON
  // string: the escape is part of the token, not its end. A run of backslashes is taken whole with
  // its `/`, so no match ends inside an escape, and one not ending in `/` (`\n`) ends the token
  {
    name: 'bearer',
    pattern: /\bBearer\s+(?:[A-Za-z0-9._~+/=-]|\\+\/){8,}/gi,
    replacement: 'Bearer [REDACTED_KEY]',
  },
  { name: 'api_key', pattern: API_KEY, replacement: '[REDACTED_KEY]' },
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

const BUILTIN_PATTERNS: ReadonlySet<PiiPattern> = new Set(DEFAULT_PII_PATTERNS);

/**
 * The end of what may be a JSON escape: `\b`, `\f`, `\n`, `\r`, `\t`, or `\u` and four hex digits
 * (`\"`, `\\` and `\/` end in a character that is no word's already). Read without counting the
 * backslashes before it: a body's JSON string holding JSON (a tool call's `arguments`) writes a
 * line break as `\\n`, and that ends a line too.
 */
const ESCAPE_END = /\\(?:[bfnrt]|u[\dA-Fa-f]{4})/g;

/**
 * Marks the end of each escape, for the built-in patterns to see a boundary there: a NUL, which
 * JSON text never holds raw (it is written `\u0000`), and no built-in pattern matches.
 */
const MARK = '\u0000';

/**
 * Replaces every match of the patterns (defaults plus `extra`) in a text.
 *
 * Bodies are redacted as JSON text, where a line break is the two characters `\n`: a value at
 * the start of a line follows the letter `n`, which hides the word boundary the built-in
 * patterns start at (`\nsk-proj-…` kept its key), or lets a match take the escape's letter
 * (`\nalice@example.com` became `\[REDACTED_EMAIL]`, which no longer parses). The built-in
 * patterns run with a NUL after every escape, so the end of an escape is a boundary and no match
 * spans one; the NULs are removed before a pattern of your own runs and at the end, so yours see
 * the text as it is. A text that holds a NUL already (not JSON) is redacted unmarked.
 */
export function redactPii(text: string, patterns: readonly PiiPattern[] = DEFAULT_PII_PATTERNS): string {
  const markable = !text.includes(MARK);
  let out = text;
  let marked = false;
  for (const entry of patterns) {
    const mark = markable && BUILTIN_PATTERNS.has(entry);
    if (mark !== marked) out = mark ? out.replace(ESCAPE_END, `$&${MARK}`) : out.replaceAll(MARK, '');
    marked = mark;
    const { pattern, replacement } = entry;
    // the same call twice: TypeScript picks String#replace's overload (string or function) per branch
    out =
      typeof replacement === 'string' ? out.replace(pattern, replacement) : out.replace(pattern, replacement);
  }
  return marked ? out.replaceAll(MARK, '') : out;
}
