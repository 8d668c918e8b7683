// The only Node-specific module of the context: AsyncLocalStorage also exists in Deno, Bun
// and Cloudflare Workers (nodejs_compat), so everything else stays runtime-neutral.
import { AsyncLocalStorage } from 'node:async_hooks';
import { EMPTY_CONTEXT, type SwitchyardContext } from './switchyard-context';

// One storage per process, shared through a global symbol: the main and `/undici` entries
// are bundled separately, and an app may load both the ESM and CJS builds; each copy must
// read the context the others set.
const STORAGE_KEY = Symbol.for('@switchyard/proxy-client/context-storage/v1');
const registry = globalThis as typeof globalThis & { [STORAGE_KEY]?: AsyncLocalStorage<SwitchyardContext> };
const storage = (registry[STORAGE_KEY] ??= new AsyncLocalStorage<SwitchyardContext>());

/** The context of the current async flow. */
export function readContext(): SwitchyardContext {
  return storage.getStore() ?? EMPTY_CONTEXT;
}

/** Runs `fn` with `context` as the current context of it and of everything it awaits or schedules. */
export function runInContext<T>(context: SwitchyardContext, fn: () => T): T {
  return storage.run(Object.freeze(context), fn);
}
