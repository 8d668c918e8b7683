import { readContext } from './context-storage';
import type { RunContext, SectionContext, SwitchyardContext } from './switchyard-context';

/** The whole context of the current async flow (frozen). */
export function currentContext(): SwitchyardContext {
  return readContext();
}

/** The current run, or `undefined` outside of `withRun`/`section`. */
export function currentRun(): RunContext | undefined {
  return readContext().run;
}

/** The innermost current section, or `undefined` outside of `section`. */
export function currentSection(): SectionContext | undefined {
  return readContext().section;
}

/** The current customer id, or `undefined` outside of `withCustomer`. */
export function currentCustomer(): string | undefined {
  return readContext().customerId;
}
