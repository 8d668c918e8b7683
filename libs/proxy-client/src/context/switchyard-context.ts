/** The run a call belongs to: one agent run, job or conversation turn. */
export interface RunContext {
  /** Sent as `x-switchyard-run-id`. */
  readonly runId: string;
}

/** A named section of a run (an agent step, a tool call), nested sections forming a tree. */
export interface SectionContext {
  /** This section's own name, e.g. `tool:search`. Sent as `x-switchyard-section`. */
  readonly name: string;
  /** The names from the root section down, joined by `/`: `agent:research/tool:search`. */
  readonly path: string;
  /** 16 lowercase hex characters, unique per section entry. Sent as `x-switchyard-span-id`. */
  readonly spanId: string;
  /** The enclosing section's span id; `undefined` for a root section. */
  readonly parentSpanId: string | undefined;
  /** 1 for a root section, 2 for its children, and so on. */
  readonly depth: number;
}

/** Everything the client knows about the current async flow. Frozen; never mutated. */
export interface SwitchyardContext {
  readonly run: RunContext | undefined;
  readonly section: SectionContext | undefined;
  /** The end customer the calls are made for. Sent as `x-switchyard-customer-id`. */
  readonly customerId: string | undefined;
}

/** The context outside of any `withRun`, `section` or `withCustomer`. */
export const EMPTY_CONTEXT: SwitchyardContext = Object.freeze({
  run: undefined,
  section: undefined,
  customerId: undefined,
});
