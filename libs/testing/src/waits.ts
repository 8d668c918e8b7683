/**
 * Options for `vi.waitFor` on a condition that holds within a few turns of the event loop on an
 * idle machine. vitest's default bound (1 s) is too short on CI's two loaded cores, where a test
 * process can wait that long for its turn; a wait that succeeds returns as soon as the condition
 * holds, so the longer bound only changes how long a real failure takes to report.
 */
export const UNTIL_SETTLED = { timeout: 10_000, interval: 20 } as const;
