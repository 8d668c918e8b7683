import { describe, expect, it } from 'vitest';
import { DEFAULT_PII_PATTERNS, redactPii } from './redact-pii';

describe('redactPii', () => {
  it('redacts emails, phone numbers, card numbers and API-key shapes', () => {
    const text =
      'jane.doe@example.com +1 (415) 555-2671 4111 1111 1111 1111 sk-ant-api03-abcdefghijklmnopqrstu Bearer abcdefghijklmnop';
    const out = redactPii(text);
    for (const secret of [
      'jane.doe@example.com',
      '555-2671',
      '4111 1111',
      'sk-ant-api03',
      'abcdefghijklmnop',
    ])
      expect(out).not.toContain(secret);
  });

  // made-up keys of each shape (the AWS long-term one is the example of AWS's documentation)
  const TOKENS = {
    huggingFace: `hf_${'AbCdEfGhIj'.repeat(3)}Klmn`,
    githubPersonal: `ghp_${'A1b2C3d4E5'.repeat(3)}f6G7h8`,
    githubOAuth: `gho_${'A1b2C3d4E5'.repeat(3)}f6G7h8`,
    githubUser: `ghu_${'A1b2C3d4E5'.repeat(3)}f6G7h8`,
    githubServer: `ghs_${'A1b2C3d4E5'.repeat(3)}f6G7h8`,
    githubRefresh: `ghr_${'A1b2C3d4E5'.repeat(3)}f6G7h8`,
    githubFineGrained: `github_pat_11ABCDEFG0${'a1B2c3D4e5'.repeat(2)}_${'F6g7H8i9J0'.repeat(5)}k1L2m3N4o`,
    awsLongTerm: 'AKIAIOSFODNN7EXAMPLE',
    awsTemporary: 'ASIAY34FZKBOKMUTVV7A',
    slackBot: `xoxb-123456789012-1234567890123-${'AbCdEfGh'.repeat(3)}`,
    slackUser: `xoxp-123456789012-123456789012-123456789012-${'0a1b2c3d'.repeat(4)}`,
    slackApp: `xapp-1-A0123456789-1234567890123-${'0a1b2c3d'.repeat(8)}`,
    perplexity: `pplx-${'aB3dE6gH9j'.repeat(4)}kL2mN5pQ`,
    replicate: `r8_${'aB3dE6gH9j'.repeat(3)}kL2mN5p`,
    pinecone: `pcsk_${'4Qx2Wv'}_${'aB3dE6gH9j'.repeat(6)}`,
    stripeWebhook: `whsec_${'aB3dE6gH9j'.repeat(3)}kL`,
    sendGrid: `SG.${'aB3dE6gH9j'.repeat(2)}xY.${'kL2mN5pQ8r'.repeat(4)}st_-u`,
    openAI: `sk-proj-${'aB3dE6gH9j'.repeat(4)}`,
    anthropic: `sk-ant-api03-${'aB3dE6gH9j'.repeat(4)}-xyzAA`,
    openRouter: `sk-or-v1-${'0a1b2c3d'.repeat(8)}`,
    google: `AIza${'Sy0aB3dE6gH9j'.repeat(2)}kL2mN5pQ8r`,
  };

  it.each(Object.entries(TOKENS))(
    'redacts a %s token in text and in a JSON body, which still parses',
    (_name, token) => {
      expect(redactPii(`my key is ${token}, keep it safe`)).toBe('my key is [REDACTED_KEY], keep it safe');
      const body = JSON.stringify({
        messages: [{ content: `why does\n${token}\nfail?` }],
        env: `TOKEN=${token}`,
      });
      const out = redactPii(body);
      expect(out).not.toContain(token);
      expect(JSON.parse(out)).toEqual({
        messages: [{ content: 'why does\n[REDACTED_KEY]\nfail?' }],
        env: 'TOKEN=[REDACTED_KEY]',
      });
    },
  );

  it('leaves words, identifiers and short or lower-case look-alikes of those shapes alone', () => {
    for (const text of [
      'the ghost of a ghp and a gh_pages branch, ghr_short',
      'call hf_hub_download(repo_id) with hf_token=None',
      'github_pat_short and a github_pat_ mention',
      'AKIAbc is too short, akiaiosfodnn7example is lower case, AKIA1234 too',
      'a 24-character id AKIAIOSFODNN7EXAMPLE1234 and ASIAN countries',
      'xoxo-hugs-and-kisses-forever, xoxb-example-token and xapp-token-here',
      'pplx-short, r8_short, pcsk_short and whsec_short',
      'SG.short.name in a config',
      'task-abcdefghijklmnop and a desk_abcdefghijklmnop',
    ])
      expect(redactPii(text)).toBe(text);
  });

  it('redacts phone numbers as people write them', () => {
    for (const phone of [
      '+1 (415) 555-2671',
      '(415) 555 2671',
      '415-555-2671',
      '415.555.2671',
      '+44 20 7946 0958',
      '020 7946 0958',
      '+14155552671',
      '1 800 555 1234',
      '+33 1 23 45 67 89',
      '06 12 34 56 78',
      '+49 30 12345678',
      '07700 900123',
    ]) {
      expect(redactPii(`call ${phone} today`)).toBe('call [REDACTED_PHONE] today');
    }
  });

  it('leaves ranges and seven-digit numbers without an area code alone', () => {
    for (const text of [
      'use 100-2000 tokens',
      'write 300-5000 words',
      'between 250 5000 and 100 2000',
      'call 555-2671 today',
    ])
      expect(redactPii(text)).toBe(text);
    expect(redactPii('a budget of 100-2000 tokens, or call 415-555-2671')).toBe(
      'a budget of 100-2000 tokens, or call [REDACTED_PHONE]',
    );
  });

  it('leaves the numbers, dates and versions of a JSON body alone', () => {
    const body = JSON.stringify({
      id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
      created: 1_741_569_952,
      seed: 4_155_552_671,
      max_tokens: 16_384,
      top_p: 0.9555,
      logprob: -0.31725305,
      ratio: 12.3456789,
      scores: [1024, 4096, 65_536],
      date: '2026-12-01',
      dates: ['01-02-2024', '2024-01-15 10:30', '01.02.2024'],
      range: '2019-2024',
      version: '1.2.3',
      address: '192.168.1.100',
    });
    expect(redactPii(body)).toBe(body);
  });

  it('redacts card numbers that pass the Luhn check, spaced or not, and leaves other long numbers and JSON numbers alone', () => {
    for (const card of [
      '4111 1111 1111 1111',
      '4111-1111-1111-1111',
      '4111111111111111',
      '378282246310005',
      '6011111111111117',
    ])
      expect(redactPii(`card ${card}, thanks`)).toBe('card [REDACTED_CARD], thanks');
    expect(redactPii('"card: 4111111111111111"')).toBe('"card: [REDACTED_CARD]"');
    // fails the Luhn check
    expect(redactPii('order 4111111111111112')).toBe('order 4111111111111112');
    // a millisecond timestamp and a seed that pass the Luhn check, as JSON numbers
    const body = JSON.stringify({ created_ms: 1733097600121, seed: 12345678901237, ids: [4111111111111111] });
    expect(redactPii(body)).toBe(body);
    expect(() => JSON.parse(redactPii(body)) as unknown).not.toThrow();
  });

  it('finds emails, also after a long run of their characters without an @', () => {
    expect(redactPii('mail john.doe+x@example.co.uk now')).toBe('mail [REDACTED_EMAIL] now');
    // 64 K characters took seconds with the unbounded local part; linear, it is a few
    // milliseconds, and this asserts only the answer (a timing is not a test)
    const long = `${'x'.repeat(64_000)} a@b.io`;
    expect(redactPii(long)).toBe(`${'x'.repeat(64_000)} [REDACTED_EMAIL]`);
  });

  it('redacts a bearer token whatever the letter case of its scheme, as HTTP reads it', () => {
    for (const scheme of ['Bearer', 'bearer', 'BEARER'])
      expect(redactPii(`-H "authorization: ${scheme} ghp_abcdefghijklmnop"`)).toBe(
        '-H "authorization: Bearer [REDACTED_KEY]"',
      );
  });

  describe('in JSON text, where a line break is the two characters `\\n`', () => {
    const secrets = [
      ['sk-proj-Abc123Def456Ghi789', '[REDACTED_KEY]'],
      ['Bearer sk-ant-api03-XyZ0123456789abcdef', 'Bearer [REDACTED_KEY]'],
      ['4111 1111 1111 1111', '[REDACTED_CARD]'],
      ['alice@example.com', '[REDACTED_EMAIL]'],
      ['+1 (415) 555-2671', '[REDACTED_PHONE]'],
      ['415-555-2671', '[REDACTED_PHONE]'],
    ] as const;

    it('redacts a secret at the start of a line, after any escape, and the body still parses', () => {
      for (const [secret, replacement] of secrets)
        for (const before of ['\n', '\r\n', '\t', '\b', '\f', '\u001b', '"', '\\'])
          for (const after of ['\n', '"', '\t']) {
            const body = JSON.stringify({ content: `Why does this fail?${before}${secret}${after}end` });
            const out = redactPii(body);
            expect(out).toBe(body.replace(secret, replacement));
            expect(() => JSON.parse(out) as unknown).not.toThrow();
          }
    });

    it("redacts after an escape written as \\u and four hex digits (Python's ensure_ascii, Go's HTML escaping)", () => {
      const body = String.raw`{"content":"caf\u00e9\u00a0alice@example.com \u003csk-proj-Abc123Def456Ghi789\u003e"}`;
      expect(redactPii(body)).toBe(
        String.raw`{"content":"caf\u00e9\u00a0[REDACTED_EMAIL] \u003c[REDACTED_KEY]\u003e"}`,
      );
    });

    it("redacts a secret on a line of its own in JSON held in a JSON string (a tool call's arguments), both still parsing", () => {
      const body = JSON.stringify({
        arguments: JSON.stringify({
          text: 'Hi,\nalice@example.com\nsk-proj-Abc123Def456Ghi789\n4111 1111 1111 1111',
        }),
      });
      const out = redactPii(body);
      const { arguments: args } = JSON.parse(out) as { arguments: string };
      const { text } = JSON.parse(args) as { text: string };
      expect(text).toBe('Hi,\n[REDACTED_EMAIL]\n[REDACTED_KEY]\n[REDACTED_CARD]');
    });

    it("never takes an escape's letter into a match: a carriage return then `k_…` is no key, a backspace then `earer …` no bearer token", () => {
      for (const body of [
        JSON.stringify({ content: '\rk_live_abcdefghijklmnop' }),
        JSON.stringify({ content: '\bearer abcdefghijklmnop' }),
      ])
        expect(redactPii(body)).toBe(body);
    });

    it('redacts the whole of a bearer token whose `/` is written `\\/` (PHP), also in JSON held in a JSON string, both still parsing', () => {
      // PHP's json_encode escapes every `/`: the token went on past its first `\/` (and one
      // with fewer than 8 characters before it was not redacted at all)
      for (const token of ['abc/defghijklmnop/q', 'abcdefghij/klmnop', 'abcdefghij/', 'ab/cd/ef/gh'])
        for (const secret of [`Bearer ${token}`, `bearer ${token}`]) {
          const body = JSON.stringify({ header: `Authorization: ${secret}\n` }).replaceAll('/', '\\/');
          const out = redactPii(body);
          expect(out).toBe(String.raw`{"header":"Authorization: Bearer [REDACTED_KEY]\n"}`);
          // held in a JSON string, the `\/` is written `\\/`, or `\\\/` when PHP writes that too
          const nested = JSON.stringify({ arguments: body });
          for (const outer of [nested, nested.replaceAll('/', '\\/')]) {
            const { arguments: args } = JSON.parse(redactPii(outer)) as { arguments: string };
            expect(JSON.parse(args)).toEqual({ header: 'Authorization: Bearer [REDACTED_KEY]\n' });
          }
        }
    });

    it('ends a bearer token before a run of backslashes that is no escaped `/`', () => {
      expect(redactPii(String.raw`{"a":"Bearer abcdefghij\\\nrest\\"}`)).toBe(
        String.raw`{"a":"Bearer [REDACTED_KEY]\\\nrest\\"}`,
      );
    });

    it('keeps a literal backslash before a secret as a boundary', () => {
      expect(
        redactPii(String.raw`{"path":"CORP\\jane.doe@example.com C:\\sk-proj-Abc123Def456Ghi789"}`),
      ).toBe(String.raw`{"path":"CORP\\[REDACTED_EMAIL] C:\\[REDACTED_KEY]"}`);
    });

    it('gives extra patterns the text as it is, and redacts a text holding a NUL as before', () => {
      expect(
        redactPii(String.raw`{"a":"x\nID-42"}`, [
          ...DEFAULT_PII_PATTERNS,
          { name: 'id', pattern: /\\nID-\d+/g, replacement: '[ID]' },
        ]),
      ).toBe('{"a":"x[ID]"}');
      expect(redactPii('nul\u0000 alice@example.com')).toBe('nul\u0000 [REDACTED_EMAIL]');
    });
  });

  it('takes extra patterns', () => {
    expect(
      redactPii('order ORD-12345', [{ name: 'order', pattern: /ORD-\d+/g, replacement: '[ORDER]' }]),
    ).toBe('order [ORDER]');
  });
});
