import { invalidRequest } from './chat-message-parts';

/** One turn of a provider that wants user and model turns to alternate, with the index of the chat message that opened it. */
export interface AlternatingTurn<Role extends string, Block> {
  role: Role;
  blocks: Block[];
  /** The index of the turn's first chat message, to name it when the turn is refused. */
  first: number;
}

/**
 * Adds chat message `index`'s blocks to the last turn when it has the same role (consecutive
 * tool results, and a user message after them, become one user turn), else opens a turn.
 */
export function addToTurns<Role extends string, Block>(
  turns: Array<AlternatingTurn<Role, Block>>,
  index: number,
  role: Role,
  blocks: Block[],
): void {
  const last = turns.at(-1);
  if (last !== undefined && last.role === role) last.blocks.push(...blocks);
  else turns.push({ role, blocks, first: index });
}

/**
 * Refuses a turn with no block (its messages' text all blank, no image, no tool result) with a
 * 400 naming `messages.<first>.content`: the providers refuse empty content, and leaving the
 * turn out would make the turn before it the last (a prefill) or join two model turns.
 */
export function refuseEmptyTurn(
  turns: ReadonlyArray<AlternatingTurn<string, unknown>>,
  message: string,
): void {
  const empty = turns.find((turn) => turn.blocks.length === 0);
  if (empty !== undefined) throw invalidRequest(message, `messages.${empty.first}.content`);
}
