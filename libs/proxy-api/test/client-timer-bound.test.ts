import { createSwitchyardAdmin } from '@switchyard/proxy-client';
import { MAX_TIMER_MS, timerDelayProblem } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';

// @switchyard/proxy-client depends on no other lib, so it keeps its own copy of the timer
// ceiling and its words: this keeps the copy in step with proxy-core's
describe("the client SDK's timer ceiling", () => {
  it("is proxy-core's MAX_TIMER_MS, refused in proxy-core's words", () => {
    const options = { gatewayUrl: 'http://localhost:4000', adminKey: 'master-key' };
    expect(() => createSwitchyardAdmin({ ...options, timeoutMs: MAX_TIMER_MS })).not.toThrow();
    expect(() => createSwitchyardAdmin({ ...options, timeoutMs: MAX_TIMER_MS + 1 })).toThrow(
      `/timeoutMs: ${timerDelayProblem(MAX_TIMER_MS + 1)}`,
    );
  });
});
