import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayFetch, section, withCustomer, withRun } from '../src/index';
import { switchyardDispatcher } from '../src/undici';
import { startRecordingServer, type RecordedCall, type RecordingServer } from './recording-server';

// A stand-in for the gateway that answers in each provider's documented response shape, so
// the real SDKs parse the answer; the end-to-end test through a real gateway lives in
// apps/gateway/test.
function providerAnswer(call: RecordedCall): { status: number; body: unknown } {
  if (call.path.endsWith('/v1/chat/completions')) {
    return {
      status: 200,
      body: {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1741569952,
        model: 'gpt-4o-mini',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hello!' },
            logprobs: null,
            finish_reason: 'stop',
          },
        ],
        usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
      },
    };
  }
  return {
    status: 200,
    body: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'Hi!' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 4 },
    },
  };
}

let gateway: RecordingServer;
beforeAll(async () => {
  gateway = await startRecordingServer('gateway', providerAnswer);
});
afterAll(() => gateway.close());

describe('the official provider SDKs, unmodified', () => {
  it('OpenAI with createGatewayFetch as its fetch option goes through the proxy inside nested sections', async () => {
    const openai = new OpenAI({
      apiKey: 'sk-openai-test',
      fetch: createGatewayFetch({ gatewayUrl: gateway.url, apiKey: 'sk-sy-client' }),
      maxRetries: 0,
    });
    const { completion, outer, inner } = await withCustomer('acme', () =>
      withRun(
        () =>
          section('agent:research', (o) =>
            section('tool:search', async (i) => ({
              completion: await openai.chat.completions.create({
                model: 'gpt-4o-mini',
                messages: [{ role: 'user', content: 'Hello' }],
              }),
              outer: o.spanId,
              inner: i.spanId,
            })),
          ),
        { runId: 'run-openai' },
      ),
    );
    expect(completion.choices[0]?.message.content).toBe('Hello!');
    const call = gateway.calls.find((c) => c.path === '/proxy/v1/chat/completions');
    expect(call?.headers).toMatchObject({
      'x-switchyard-target': 'https://api.openai.com',
      'x-switchyard-key': 'sk-sy-client',
      authorization: 'Bearer sk-openai-test',
      'x-switchyard-run-id': 'run-openai',
      'x-switchyard-span-id': inner,
      'x-switchyard-parent-span-id': outer,
      'x-switchyard-section-path': 'agent:research/tool:search',
      'x-switchyard-customer-id': 'acme',
    });
  });

  it('Anthropic with no option at all is covered by the global dispatcher', async () => {
    const previous = getGlobalDispatcher();
    const dispatcher = switchyardDispatcher({ gatewayUrl: gateway.url, apiKey: 'sk-sy-client' });
    setGlobalDispatcher(dispatcher);
    try {
      const anthropic = new Anthropic({ apiKey: 'sk-ant-test', maxRetries: 0 });
      const message = await withRun(
        () =>
          section('agent:writer', () =>
            anthropic.messages.create({
              model: 'claude-sonnet-4-5',
              max_tokens: 64,
              messages: [{ role: 'user', content: 'Hello' }],
            }),
          ),
        { runId: 'run-anthropic' },
      );
      expect(message.content[0]).toEqual({ type: 'text', text: 'Hi!' });
    } finally {
      setGlobalDispatcher(previous);
      await dispatcher.close();
    }
    const call = gateway.calls.find((c) => c.path === '/proxy/v1/messages');
    expect(call?.headers).toMatchObject({
      'x-switchyard-target': 'https://api.anthropic.com',
      'x-switchyard-key': 'sk-sy-client',
      'x-api-key': 'sk-ant-test',
      'x-switchyard-run-id': 'run-anthropic',
      'x-switchyard-section': 'agent:writer',
      'x-switchyard-section-path': 'agent:writer',
    });
    expect(call?.headers['x-switchyard-parent-span-id']).toBeUndefined();
  });
});
