import type { GatewayHooks } from '@switchyard/proxy-core';

/**
 * A tapable hook as far as taking taps back goes: its taps, and the private method that drops
 * its compiled call (tapable 2 recompiles the call from `taps` on the next call after it).
 */
interface TapList {
  taps: object[];
  _resetCompilation?: () => void;
}

/** The taps of a gateway's hooks, by hook. */
export type HookTaps = ReadonlyMap<TapList, ReadonlySet<object>>;

function tapLists(hooks: GatewayHooks): TapList[] {
  return (Object.values(hooks) as unknown[]).filter(
    (hook): hook is TapList =>
      typeof hook === 'object' && hook !== null && Array.isArray((hook as TapList).taps),
  );
}

/** The taps each hook holds now. */
export function tapsNow(hooks: GatewayHooks): HookTaps {
  return new Map(tapLists(hooks).map((hook) => [hook, new Set(hook.taps)]));
}

/** The taps added to the hooks since `before` was taken. */
export function tapsSince(hooks: GatewayHooks, before: HookTaps): HookTaps {
  const added = new Map<TapList, Set<object>>();
  for (const hook of tapLists(hooks)) {
    const had = before.get(hook);
    const mine = hook.taps.filter((tap) => had?.has(tap) !== true);
    if (mine.length > 0) added.set(hook, new Set(mine));
  }
  return added;
}

/**
 * Takes the given taps off their hooks (the others stay, in their order): what an app tapped on
 * a gateway it was handed, and does not own, leaves with the app. Otherwise a closed app's
 * request log, metrics and limits would still be called for every request of the gateway's
 * other users, and each app made and closed on it would add to them.
 */
export function removeTaps(taps: HookTaps): void {
  for (const [hook, mine] of taps) {
    const kept = hook.taps.filter((tap) => !mine.has(tap));
    if (kept.length === hook.taps.length) continue;
    hook.taps.splice(0, hook.taps.length, ...kept);
    hook._resetCompilation?.();
  }
}
