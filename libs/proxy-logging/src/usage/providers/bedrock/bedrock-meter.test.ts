import { encodeBedrockEvent } from '@switchyard/testing';
import { describe, expect, it } from 'vitest';
import type { MeterExchange } from '../../meter-exchange';
import { bedrockMeter } from './bedrock-meter';

// InvokeModelWithResponseStream with an Anthropic model: each frame's payload is
// {"bytes":"<base64 of the model's own chunk>"}; the last chunk carries Bedrock's invocation
// metrics (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html)
const chunks = [
  {
    type: 'message_start',
    message: {
      id: 'msg_bdrk_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-sonnet-20241022',
      content: [],
      usage: { input_tokens: 14, output_tokens: 1 },
    },
  },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello there.' } },
  { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 6 } },
  {
    type: 'message_stop',
    'amazon-bedrock-invocationMetrics': {
      inputTokenCount: 14,
      outputTokenCount: 6,
      invocationLatency: 612,
      firstByteLatency: 301,
    },
  },
];

function exchange(): MeterExchange {
  const frames = chunks.map((chunk) =>
    encodeBedrockEvent('chunk', { bytes: Buffer.from(JSON.stringify(chunk)).toString('base64') }),
  );
  const responseText = Buffer.concat(frames.map((frame) => Buffer.from(frame))).toString('utf8');
  return {
    method: 'POST',
    url: new URL(
      'https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/invoke-with-response-stream',
    ),
    requestHeaders: { 'content-type': 'application/json' },
    requestText: JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    }),
    status: 200,
    responseHeaders: { 'content-type': 'application/vnd.amazon.eventstream' },
    responseText,
    responseBytes: responseText.length,
  };
}

describe('bedrock meter: InvokeModelWithResponseStream', () => {
  it('reads the invocation metrics of the last chunk, base64-encoded in its frame', () => {
    expect(bedrockMeter.meter(exchange())).toMatchObject({
      provider: 'bedrock',
      model: 'anthropic.claude-3-5-sonnet-20241022-v2:0',
      operation: 'invoke-with-response-stream',
      tokens: { inputTokens: 14, outputTokens: 6 },
    });
  });
});
