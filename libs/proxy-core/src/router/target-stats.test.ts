import { describe, expect, it } from 'vitest';
import { TargetStats } from './target-stats';

describe('TargetStats', () => {
  it('tracks a bounded number of targets however many direct model names clients send', () => {
    const stats = new TargetStats({ alpha: 0.3, maxDirectTargets: 3 });
    for (let i = 0; i < 50; i++) {
      stats.begin(`openai/client-chosen-${i}`)();
      stats.recordLatency(`openai/client-chosen-${i}`, 100);
    }
    expect(stats.size).toBe(3);
    expect(stats.get('openai/client-chosen-49').latencyMs).toBe(100);
    expect(stats.get('openai/client-chosen-0').latencyMs).toBeUndefined();
  });

  it('keeps a target with attempts in flight, so its count stays right', () => {
    const stats = new TargetStats({ alpha: 0.3, maxDirectTargets: 2 });
    const end = stats.begin('p/busy');
    for (let i = 0; i < 5; i++) stats.recordLatency(`p/other-${i}`, 10);
    expect(stats.get('p/busy').inFlight).toBe(1);
    end();
    expect(stats.get('p/busy').inFlight).toBe(0);
    expect(stats.size).toBe(2);
  });

  it("never forgets a configured target's figures, however many direct names come after them", () => {
    const stats = new TargetStats({ alpha: 0.3, configured: new Set(['p/configured']), maxDirectTargets: 2 });
    stats.recordLatency('p/configured', 30_000);
    for (let i = 0; i < 50; i++) stats.recordLatency(`p/client-chosen-${i}`, 10);
    expect(stats.get('p/configured').latencyMs).toBe(30_000);
    expect(stats.size).toBe(3);
  });
});
