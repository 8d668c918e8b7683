import { once } from 'node:events';
import { Readable } from 'node:stream';
import { encodeBedrockEvent } from '@switchyard/testing';
import { describe, expect, it } from 'vitest';
import { finishUpstreamBody } from '../../stream/release-upstream-body';
import { readBedrockEventStream } from './read-bedrock-event-stream';

function body(): Readable {
  const readable = new Readable({ read() {} });
  readable.push(Buffer.from(encodeBedrockEvent('messageStop', { stopReason: 'end_turn' })));
  return readable;
}

describe('readBedrockEventStream', () => {
  it('leaves a finished Node body to its end (its connection is kept), and destroys one its reader leaves early', async () => {
    const finished = body();
    for await (const message of readBedrockEventStream(finished, 'bedrock')) {
      expect(message).toMatchObject({ messageType: 'event', type: 'messageStop' });
      // what mapUpstreamStream does at the terminal event, before it stops reading
      finishUpstreamBody(finished);
      break;
    }
    expect(finished.destroyed).toBe(false);
    finished.push(null);
    await once(finished, 'end');

    const left = body();
    for await (const message of readBedrockEventStream(left, 'bedrock')) {
      expect(message.type).toBe('messageStop');
      break;
    }
    expect(left.destroyed).toBe(true);
  });
});
