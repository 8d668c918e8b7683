import { readContext, runInContext } from './context-storage';
import { assertValidId } from './validate-context-value';

/**
 * Runs `fn` on behalf of an end customer: every gateway call inside it carries the
 * customer id, so usage and cost roll up per customer. Run and section are kept.
 *
 * @example
 * app.post('/chat', (req, res) => withCustomer(req.user.orgId, () => handleChat(req, res)));
 */
export function withCustomer<T>(customerId: string, fn: () => T): T {
  assertValidId('customerId', customerId);
  const current = readContext();
  return runInContext({ run: current.run, section: current.section, customerId }, fn);
}
