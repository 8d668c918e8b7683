import { describe, expect, it, vi } from 'vitest';
import type * as storageModule from './context-storage';
import { isSwitchyardClientError } from '../errors/switchyard-client-error';
import { contextHeaders } from './context-headers';
import { currentContext, currentCustomer, currentRun, currentSection } from './context-getters';
import { section } from './section';
import { withCustomer } from './with-customer';
import { withRun } from './with-run';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('run, section and customer context', () => {
  it('is empty outside of any scope', () => {
    expect(currentContext()).toEqual({ run: undefined, section: undefined, customerId: undefined });
    expect(contextHeaders()).toEqual({});
  });

  it('nests sections into a path with span and parent span ids', async () => {
    await withRun(
      async (run) => {
        expect(run.runId).toBe('job-42');
        await section('agent:research', async (outer) => {
          expect(outer).toMatchObject({
            name: 'agent:research',
            path: 'agent:research',
            parentSpanId: undefined,
            depth: 1,
          });
          expect(outer.spanId).toMatch(/^[0-9a-f]{16}$/);
          await tick();
          await section('tool:search', async (inner) => {
            await tick();
            expect(currentSection()).toBe(inner);
            expect(inner).toMatchObject({
              path: 'agent:research/tool:search',
              parentSpanId: outer.spanId,
              depth: 2,
            });
            expect(inner.spanId).not.toBe(outer.spanId);
            expect(contextHeaders()).toEqual({
              'x-switchyard-run-id': 'job-42',
              'x-switchyard-span-id': inner.spanId,
              'x-switchyard-parent-span-id': outer.spanId,
              'x-switchyard-section': 'tool:search',
              'x-switchyard-section-path': 'agent:research/tool:search',
            });
          });
          expect(currentSection()).toBe(outer);
        });
        expect(currentSection()).toBeUndefined();
        expect(currentRun()).toBe(run);
      },
      { runId: 'job-42' },
    );
    expect(currentRun()).toBeUndefined();
  });

  it('gives each entry of the same section name its own span id', () => {
    withRun(() => {
      const first = section('step', (s) => s.spanId);
      const second = section('step', (s) => s.spanId);
      expect(first).not.toBe(second);
    });
  });

  it('starts a run with a random UUID, and a section outside a run starts one', () => {
    const runId = withRun((run) => run.runId);
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    const implicit = section('solo', () => currentRun()?.runId);
    expect(implicit).toMatch(/^[0-9a-f-]{36}$/);
    expect(implicit).not.toBe(runId);
  });

  it('keeps the customer across runs and sections, and a new run drops the enclosing sections', () => {
    withCustomer('acme', () => {
      section('outer', () => {
        withRun((run) => {
          expect(currentCustomer()).toBe('acme');
          expect(currentSection()).toBeUndefined();
          expect(contextHeaders()).toEqual({
            'x-switchyard-run-id': run.runId,
            'x-switchyard-customer-id': 'acme',
          });
        });
        withCustomer('globex', () => expect(currentContext().section?.name).toBe('outer'));
      });
    });
    withRun(() => expect(currentCustomer()).toBe('initech'), { customerId: 'initech' });
  });

  it('returns what the function returns, sync or async', async () => {
    expect(withRun(() => 1)).toBe(1);
    await expect(section('s', async () => 2)).resolves.toBe(2);
    expect(withCustomer('c', () => 'x')).toBe('x');
  });

  it('rejects ids and section names that cannot travel as header values', () => {
    const codeOf = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (error) {
        return isSwitchyardClientError(error) ? error.code : 'other';
      }
      return undefined;
    };
    expect(codeOf(() => withRun(() => 0, { runId: 'has space' }))).toBe('invalid_request');
    expect(codeOf(() => withRun(() => 0, { runId: '' }))).toBe('invalid_request');
    // a run named `..` could never be read back at /admin/runs/<id>
    expect(codeOf(() => withRun(() => 0, { runId: '..' }))).toBe('invalid_request');
    expect(codeOf(() => withRun(() => 0, { runId: '.' }))).toBe('invalid_request');
    expect(withRun((run) => run.runId, { runId: '..a' })).toBe('..a');
    expect(codeOf(() => withCustomer('caf\u00e9', () => 0))).toBe('invalid_request');
    expect(codeOf(() => withCustomer('user+tag', () => 0))).toBe('invalid_request');
    expect(codeOf(() => withRun(() => 0, { runId: 'x'.repeat(129) }))).toBe('invalid_request');
    expect(codeOf(() => withCustomer('org_1:user@example.com', () => 0))).toBeUndefined();
    expect(codeOf(() => section('a/b', () => 0))).toBe('invalid_request');
    expect(codeOf(() => section(' padded', () => 0))).toBe('invalid_request');
    expect(codeOf(() => section('x'.repeat(129), () => 0))).toBe('invalid_request');
    expect(codeOf(() => section('agent: research step (2)', () => 0))).toBeUndefined();
    expect(codeOf(() => section('tool:search?', () => 0))).toBe('invalid_request');
    // the gateway accepts section paths up to 512 characters
    const deep = (depth: number): unknown =>
      section('s'.repeat(127), () => (depth > 1 ? deep(depth - 1) : 0));
    expect(codeOf(() => deep(4))).toBeUndefined();
    expect(codeOf(() => deep(5))).toBe('invalid_request');
  });

  it("never lets 100 interleaved async flows see each other's context", async () => {
    const flows = Array.from({ length: 100 }, (_, i) => i);
    const seen = await Promise.all(
      flows.map((i) =>
        withCustomer(`customer-${i}`, () =>
          withRun(
            async (run) => {
              const observed: string[] = [];
              // each flow yields a different number of times so flows interleave at every step
              for (let step = 0; step < 3; step += 1) {
                await section(`agent:${i}`, async (outer) => {
                  for (let k = 0; k <= i % 5; k += 1) await tick();
                  await section(`tool:${step}`, async (inner) => {
                    await new Promise((resolve) => setTimeout(resolve, (i * 7 + step) % 3));
                    const context = currentContext();
                    const headers = contextHeaders();
                    const ok =
                      context.customerId === `customer-${i}` &&
                      context.run?.runId === run.runId &&
                      context.section === inner &&
                      inner.parentSpanId === outer.spanId &&
                      headers['x-switchyard-section-path'] === `agent:${i}/tool:${step}` &&
                      headers['x-switchyard-customer-id'] === `customer-${i}` &&
                      headers['x-switchyard-run-id'] === `run-${i}`;
                    observed.push(ok ? 'ok' : `bleed in flow ${i}: ${JSON.stringify(headers)}`);
                  });
                  await tick();
                  observed.push(
                    currentSection() === outer && currentCustomer() === `customer-${i}`
                      ? 'ok'
                      : `bleed after tool in flow ${i}`,
                  );
                });
              }
              return observed;
            },
            { runId: `run-${i}` },
          ),
        ),
      ),
    );
    const problems = seen.flat().filter((entry) => entry !== 'ok');
    expect(problems).toEqual([]);
    expect(seen.flat()).toHaveLength(100 * 3 * 2);
    expect(currentContext().run).toBeUndefined();
  });

  it('shares the context across copies of the module (the /undici entry and dual ESM/CJS builds)', async () => {
    vi.resetModules();
    // a query makes the module runner load a second instance, as a second bundle would
    const specifier = './context-storage?copy=1';
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof storageModule;
    const original = await import('./context-storage');
    expect(copy).not.toBe(original);
    const seen = withRun(() => copy.readContext().run?.runId, { runId: 'shared-run' });
    expect(seen).toBe('shared-run');
  });
});
