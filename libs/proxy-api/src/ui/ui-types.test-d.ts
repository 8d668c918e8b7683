import type {
  RequestLogRow,
  RunSummary,
  SectionNode,
  UsageBucket,
  UsageGroup,
  UsageSeries,
} from '@switchyard/proxy-logging';
import { describe, expectTypeOf, it } from 'vitest';
import type * as Ui from '../../ui/types';

// The UI restates the admin API's shapes (it cannot import them: see ui/types.ts); these
// checks fail the typecheck when the request log's types change and the UI's do not.
describe('the admin UI types', () => {
  it('match the request log rows, runs and usage groups', () => {
    expectTypeOf<Ui.RequestRow>().toEqualTypeOf<RequestLogRow>();
    expectTypeOf<Ui.SectionNode>().toEqualTypeOf<SectionNode>();
    expectTypeOf<Ui.RunSummary>().toEqualTypeOf<RunSummary>();
    expectTypeOf<Ui.UsageGroup>().toEqualTypeOf<UsageGroup>();
  });

  it('match the usage series, with the times as ISO strings on the wire', () => {
    expectTypeOf<Ui.UsageBucket>().toEqualTypeOf<UsageBucket>();
    expectTypeOf<Omit<Ui.UsageSeries, 'from' | 'to'>>().toEqualTypeOf<Omit<UsageSeries, 'from' | 'to'>>();
    expectTypeOf<Ui.UsageSeries['from']>().toEqualTypeOf<string>();
    expectTypeOf<Ui.UsageSeries['to']>().toEqualTypeOf<string>();
  });
});
