import { readContext, runInContext } from './context-storage';
import { createRunId, createSpanId } from './create-ids';
import type { SectionContext } from './switchyard-context';
import { assertValidSectionName, assertValidSectionPath } from './validate-context-value';

/**
 * Runs `fn` inside a named section of the current run. Sections nest: inside
 * `section('agent:research', ...)`, `section('tool:search', ...)` has the path
 * `agent:research/tool:search`, its own span id and the research section's span id as its
 * parent. A section outside any run starts a new run.
 *
 * @example
 * await section('agent:research', () => section('tool:search', () => anthropic.messages.create({ ... })));
 */
export function section<T>(name: string, fn: (section: SectionContext) => T): T {
  assertValidSectionName(name);
  const current = readContext();
  const parent = current.section;
  const path = parent === undefined ? name : `${parent.path}/${name}`;
  assertValidSectionPath(path);
  const entered: SectionContext = Object.freeze({
    name,
    path,
    spanId: createSpanId(),
    parentSpanId: parent?.spanId,
    depth: (parent?.depth ?? 0) + 1,
  });
  const run = current.run ?? Object.freeze({ runId: createRunId() });
  return runInContext({ run, section: entered, customerId: current.customerId }, () => fn(entered));
}
