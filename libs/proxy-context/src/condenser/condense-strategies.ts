import type { ChatMessage } from '@switchyard/proxy-core';
import { contentText, type TokenCounter } from './token-counter';
import type { MessageUnit } from './message-units';

/** The strategies a condenser applies. */
export const CONDENSE_STRATEGIES = ['middle-out', 'drop-oldest', 'truncate-long', 'summarize'] as const;

/** One of {@link CONDENSE_STRATEGIES}. */
export type CondenseStrategy = (typeof CONDENSE_STRATEGIES)[number];

/** Whether a string names a strategy. */
export function isCondenseStrategy(value: string): value is CondenseStrategy {
  return (CONDENSE_STRATEGIES as readonly string[]).includes(value);
}

/** The result of removing units: what is kept, what went, and the kept tokens. */
export interface Selection {
  kept: MessageUnit[];
  removed: MessageUnit[];
  tokens: number;
}

function total(units: readonly MessageUnit[], fixed: number): number {
  return units.reduce((sum, unit) => sum + unit.tokens, fixed);
}

/**
 * Removes units until `fixed + kept ≤ budget`, trying them in `order` (indexes into
 * `units`). Linear: removed units are marked, and the kept ones filtered once.
 */
function removeUntilFits(
  units: readonly MessageUnit[],
  fixed: number,
  budget: number,
  order: readonly number[],
): Selection {
  const gone = new Array<boolean>(units.length).fill(false);
  let tokens = total(units, fixed);
  for (const index of order) {
    if (tokens <= budget) break;
    gone[index] = true;
    tokens -= units[index]!.tokens;
  }
  return {
    kept: units.filter((_, index) => !gone[index]),
    removed: units.filter((_, index) => gone[index]),
    tokens,
  };
}

/** Indexes of the units not protected, in order. */
function removable(
  units: readonly MessageUnit[],
  protect: (unit: MessageUnit, index: number) => boolean,
): number[] {
  const indexes: number[] = [];
  units.forEach((unit, index) => {
    if (!protect(unit, index)) indexes.push(index);
  });
  return indexes;
}

/**
 * The order that takes the middle one of the remaining items each time (index
 * `floor(remaining / 2)`): the removed items always form one block around the centre, so
 * the next one is just before or just after it.
 */
function middleOutOrder(items: readonly number[]): number[] {
  const order: number[] = [];
  // the removed block is items[low..high)
  let low = Math.floor(items.length / 2);
  let high = low;
  for (let remaining = items.length; remaining > 0; remaining -= 1) {
    const position = Math.floor(remaining / 2);
    // position among the remaining items: below the block it is the item itself, else past the block
    if (position < low) {
      low -= 1;
      order.push(items[low]!);
    } else {
      order.push(items[high]!);
      high += 1;
    }
  }
  return order;
}

/** Whether a unit speaks for the assistant (a reply, or a tool or function call with its results). */
function isAssistantUnit(unit: MessageUnit): boolean {
  const role = unit.messages[0]?.role;
  return role === 'assistant' || role === 'tool' || role === 'function';
}

/**
 * `drop-oldest`: keep the system and developer messages (the leading prompt and any between
 * turns, in place) and the newest unit, drop the oldest others first.
 * Once a user turn is dropped, the assistant units answering it go too, up to the next user
 * turn: the kept conversation opens with a user turn, as providers require (Gemini refuses a
 * history whose first turn is a function call, Bedrock Converse one that starts with the
 * assistant). When the newest unit is not a user turn (an agent loop: one task, then tool calls
 * and their results), the newest user turn before it is kept too, so one is left to open with
 * (the task is not dropped first, leaving a history of tool calls no provider takes). When no
 * user turn is left to open with, nothing more is dropped. `opensWithUser: false` leaves them, for a caller that puts a user message of its own
 * in front of the kept units (`summarize`'s summary).
 */
export function dropOldest(
  units: readonly MessageUnit[],
  fixed: number,
  budget: number,
  opensWithUser = true,
): Selection {
  const last = units.length - 1;
  const opensTurn = (index: number): boolean => units[index]!.messages[0]?.role === 'user';
  // the newest user unit, kept when the newest unit is not one: -1 when it is, or when there is none
  let pinnedUser = -1;
  if (opensWithUser && last >= 0 && !opensTurn(last)) {
    for (let index = last - 1; index >= 0 && pinnedUser < 0; index -= 1)
      if (!units[index]!.system && opensTurn(index)) pinnedUser = index;
  }
  const order = removable(units, (unit, index) => unit.system || index === last || index === pinnedUser);
  const gone = new Array<boolean>(units.length).fill(false);
  let tokens = total(units, fixed);
  let next = 0;
  for (; next < order.length && tokens > budget; next += 1) {
    gone[order[next]!] = true;
    tokens -= units[order[next]!]!.tokens;
  }
  if (opensWithUser && next > 0) {
    // the first kept unit that opens a turn: a removable user unit, else the pinned user unit, else the newest unit
    let opener = next;
    while (
      opener < order.length &&
      !opensTurn(order[opener]!) &&
      (pinnedUser < 0 || order[opener]! < pinnedUser)
    )
      opener += 1;
    const userKept = opener < order.length || pinnedUser >= 0 || (last >= 0 && opensTurn(last));
    if (userKept) {
      for (; next < opener; next += 1) {
        const unit = units[order[next]!]!;
        if (!isAssistantUnit(unit)) continue;
        gone[order[next]!] = true;
        tokens -= unit.tokens;
      }
    }
  }
  return {
    kept: units.filter((_, index) => !gone[index]),
    removed: units.filter((_, index) => gone[index]),
    tokens,
  };
}

/**
 * `middle-out`: keep the system and developer messages (wherever they are), the first user turn
 * and the newest turns; drop from the middle of the conversation outwards.
 */
export function middleOut(units: readonly MessageUnit[], fixed: number, budget: number): Selection {
  const last = units.length - 1;
  const firstUser = units.findIndex((unit) => unit.messages[0]?.role === 'user');
  return removeUntilFits(
    units,
    fixed,
    budget,
    middleOutOrder(removable(units, (unit, index) => unit.system || index === firstUser || index === last)),
  );
}

/** How a message shortened by `truncate-long` is marked. */
export function truncationMarker(removedTokens: number): string {
  return `\n\n[... ${removedTokens} tokens omitted by the gateway to fit the context window ...]\n\n`;
}

/** Shortens a text to about `target` tokens, keeping its head and its tail. */
function shorten(text: string, tokens: number, target: number, counter: TokenCounter): string {
  const marker = truncationMarker(tokens - target);
  const room = Math.max(0, target - counter.count(marker));
  const head = Math.ceil(room * 0.6);
  return counter.head(text, head) + marker + counter.tail(text, room - head);
}

/**
 * `truncate-long`: shorten the largest single messages (tool outputs, pasted documents),
 * keeping head and tail, until the request fits. System prompts are left whole.
 * Returns the new messages and how many were shortened.
 */
export function truncateLong(
  messages: readonly ChatMessage[],
  counts: readonly number[],
  fixed: number,
  budget: number,
  counter: TokenCounter,
  minKeepTokens: number,
): { messages: ChatMessage[]; truncated: number; tokens: number } {
  const out = [...messages];
  const sizes = [...counts];
  let tokens = sizes.reduce((sum, n) => sum + n, fixed);
  let truncated = 0;
  const order = out
    .map((message, index) => ({ index, text: contentText(message.content), message }))
    // system prompts stay whole; messages with images are not cut (the text alone would lose them)
    .filter(
      ({ message }) =>
        message.role !== 'system' &&
        message.role !== 'developer' &&
        (typeof message.content === 'string' ||
          (Array.isArray(message.content) && message.content.every((part) => part.type === 'text'))),
    )
    .sort((a, b) => sizes[b.index]! - sizes[a.index]!);
  for (const { index, text } of order) {
    if (tokens <= budget) break;
    const textTokens = counter.count(text);
    if (textTokens <= minKeepTokens) continue;
    const target = Math.max(minKeepTokens, textTokens - (tokens - budget));
    const message = out[index]!;
    const content = shorten(text, textTokens, target, counter);
    out[index] = { ...message, content };
    const after = sizes[index]! - textTokens + counter.count(content);
    tokens += after - sizes[index]!;
    sizes[index] = after;
    truncated += 1;
  }
  return { messages: out, truncated, tokens };
}
