import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../wire/openai-chat';
import { toBedrockRequest } from './to-bedrock-request';

const turnsOf = (messages: ChatMessage[]) => toBedrockRequest({ model: 'x', messages }).messages;

describe('toBedrockRequest: empty assistant turns', () => {
  it.each([
    ['an empty string', ''],
    ['null', null],
    ['whitespace only', ' \n '],
  ] as const)('drops a non-final assistant turn whose content is %s and joins the user turns around it', (_, content) => {
    expect(
      turnsOf([
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content },
        { role: 'user', content: 'Are you there?' },
      ]),
    ).toEqual([{ role: 'user', content: [{ text: 'Hello' }, { text: 'Are you there?' }] }]);
  });

  it('drops a final assistant turn of whitespace only', () => {
    const turns = turnsOf([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: '  ' },
    ]);
    expect(turns).toEqual([{ role: 'user', content: [{ text: 'Hello' }] }]);
  });
});
