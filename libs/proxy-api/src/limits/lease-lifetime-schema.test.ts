import { Type } from '@sinclair/typebox';
import { schemaProblems } from '@switchyard/proxy-core';
import { describe, expect, it } from 'vitest';
import {
  LEASE_LIFETIME_FLOOR_MS,
  LeaseLifetimeSchema,
  leaseLifetimeProblem,
  withLeaseLifetimeReason,
} from './limit-backend';

const Limits = Type.Object({
  limits: Type.Optional(Type.Object({ maxLeaseLifetimeMs: Type.Optional(LeaseLifetimeSchema) })),
});

describe('LeaseLifetimeSchema', () => {
  it("explains its floor by itself: schemaProblems gives the lease ttl's reason, with no line to patch afterwards", () => {
    expect(schemaProblems(Limits, { limits: { maxLeaseLifetimeMs: 600_000 } })).toEqual([
      "/limits/maxLeaseLifetimeMs: 600000 ms is below the floor of 900000 ms (15 minutes, a lease's time to live on Redis): each request's max_parallel slot and budget reservation would be given back that soon while it still runs, so those limits would stop holding",
    ]);
    expect(schemaProblems(Limits, { limits: { maxLeaseLifetimeMs: LEASE_LIFETIME_FLOOR_MS } })).toEqual([]);
  });

  it("keeps TypeBox's line for a value that is not a whole number", () => {
    expect(schemaProblems(Limits, { limits: { maxLeaseLifetimeMs: 1.5 } })).toEqual([
      '/limits/maxLeaseLifetimeMs: Expected integer',
    ]);
  });

  it('leaves the deprecated withLeaseLifetimeReason nothing to change in its lines', () => {
    const problems = schemaProblems(Limits, { limits: { maxLeaseLifetimeMs: 1 } });
    expect(withLeaseLifetimeReason(problems, 1)).toEqual(problems);
    expect(problems).toEqual([`/limits/maxLeaseLifetimeMs: ${leaseLifetimeProblem(1)}`]);
  });
});
