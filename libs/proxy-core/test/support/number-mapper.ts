import { SwitchyardError } from '../../src/errors/switchyard-error';
import type { StreamMapper } from '../../src/stream/map-upstream-stream';
import type { SseEvent } from '../../src/stream/read-sse';

/** Maps `data: <n>` to the chunk `n`, `data: bad` to an error and `data: end` to the end; a stream cut before its end fails. */
export class NumberMapper implements StreamMapper<SseEvent, number> {
  done = false;

  map(event: SseEvent): number[] {
    if (event.data === 'end') {
      this.done = true;
      return [];
    }
    if (event.data === 'bad') throw new SwitchyardError('upstream_stream_error', 'An unreadable event.');
    return [Number(event.data)];
  }

  end(): number[] {
    if (!this.done) throw new Error('cut');
    return [];
  }
}
