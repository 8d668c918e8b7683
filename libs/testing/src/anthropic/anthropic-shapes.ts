// Strict checks of what an Anthropic Messages API client reads, written from Anthropic's
// reference (https://docs.anthropic.com/en/api/messages, .../build-with-claude/streaming):
// each returns the list of problems, empty when the value is valid.

const STOP_REASONS = new Set([
  'end_turn',
  'max_tokens',
  'stop_sequence',
  'tool_use',
  'pause_turn',
  'refusal',
]);
const ERROR_TYPES = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'rate_limit_error',
  'api_error',
  'overloaded_error',
]);

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;

function usageProblems(usage: unknown, where: string, problems: string[]): void {
  if (!isObject(usage)) {
    problems.push(`${where}: usage must be an object`);
    return;
  }
  for (const field of ['input_tokens', 'output_tokens'])
    if (!isCount(usage[field])) problems.push(`${where}.${field}: must be a non-negative integer`);
  for (const field of ['cache_creation_input_tokens', 'cache_read_input_tokens']) {
    if (usage[field] !== undefined && usage[field] !== null && !isCount(usage[field]))
      problems.push(`${where}.${field}: must be a non-negative integer or null`);
  }
}

function blockProblems(block: unknown, where: string, problems: string[], streaming: boolean): void {
  if (!isObject(block)) {
    problems.push(`${where}: must be an object`);
    return;
  }
  if (block['type'] === 'text') {
    if (typeof block['text'] !== 'string') problems.push(`${where}.text: must be a string`);
    if (!streaming && block['text'] === '') problems.push(`${where}.text: an empty text block`);
  } else if (block['type'] === 'tool_use') {
    if (typeof block['id'] !== 'string' || block['id'].length === 0)
      problems.push(`${where}.id: must be a non-empty string`);
    if (typeof block['name'] !== 'string' || block['name'].length === 0)
      problems.push(`${where}.name: must be a non-empty string`);
    if (!isObject(block['input'])) problems.push(`${where}.input: must be an object`);
    if (streaming && isObject(block['input']) && Object.keys(block['input']).length > 0)
      problems.push(`${where}.input: must start empty in a stream`);
  } else problems.push(`${where}.type: unexpected block type ${JSON.stringify(block['type'])}`);
}

/** Problems with a `message` response body (empty when valid). */
export function anthropicMessageProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(value)) return ['message: must be an object'];
  if (typeof value['id'] !== 'string' || !value['id'].startsWith('msg_'))
    problems.push('id: must be a string starting msg_');
  if (value['type'] !== 'message') problems.push('type: must be "message"');
  if (value['role'] !== 'assistant') problems.push('role: must be "assistant"');
  if (typeof value['model'] !== 'string' || value['model'].length === 0)
    problems.push('model: must be a non-empty string');
  if (!Array.isArray(value['content'])) problems.push('content: must be an array');
  else value['content'].forEach((block, index) => blockProblems(block, `content.${index}`, problems, false));
  if (typeof value['stop_reason'] !== 'string' || !STOP_REASONS.has(value['stop_reason']))
    problems.push(`stop_reason: unexpected ${JSON.stringify(value['stop_reason'])}`);
  if (value['stop_sequence'] !== null && typeof value['stop_sequence'] !== 'string')
    problems.push('stop_sequence: must be a string or null');
  if (value['stop_reason'] === 'stop_sequence' && typeof value['stop_sequence'] !== 'string')
    problems.push('stop_sequence: must name the sequence');
  const toolUse =
    Array.isArray(value['content']) &&
    value['content'].some((block) => isObject(block) && block['type'] === 'tool_use');
  // max_tokens may end a message after (or during) its tool calls: Anthropic sends those blocks with it
  if (value['stop_reason'] === 'tool_use' && !toolUse)
    problems.push('stop_reason: "tool_use" needs tool_use blocks in the content');
  if (toolUse && value['stop_reason'] !== 'tool_use' && value['stop_reason'] !== 'max_tokens')
    problems.push('stop_reason: must be "tool_use" (or "max_tokens") when the content has tool_use blocks');
  usageProblems(value['usage'], 'usage', problems);
  return problems;
}

/** Problems with an Anthropic error body (empty when valid). */
export function anthropicErrorProblems(value: unknown): string[] {
  if (!isObject(value)) return ['error body: must be an object'];
  const problems: string[] = [];
  if (value['type'] !== 'error') problems.push('type: must be "error"');
  const error = value['error'];
  if (!isObject(error)) return [...problems, 'error: must be an object'];
  if (typeof error['type'] !== 'string' || !ERROR_TYPES.has(error['type']))
    problems.push(`error.type: unexpected ${JSON.stringify(error['type'])}`);
  if (typeof error['message'] !== 'string' || error['message'].length === 0)
    problems.push('error.message: must be a non-empty string');
  return problems;
}

/** One server-sent event as read off the wire: its `event:` name and parsed `data:`. */
export interface NamedSseEvent {
  event: string | undefined;
  data: unknown;
}

/** Parses an SSE body into named events (every `data:` must be JSON). */
export function parseNamedSse(text: string): NamedSseEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((frame) => frame.trim().length > 0)
    .map((frame) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of frame.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      return { event, data: JSON.parse(data.join('\n')) as unknown };
    });
}

/**
 * Problems with a complete Messages stream (empty when valid): event names match their data,
 * `message_start` first, blocks opened in index order from 0 and closed before the next one,
 * deltas of the block's kind, tool input that parses as a JSON object, one `message_delta` with
 * a stop reason and output tokens after every block, `message_stop` last.
 */
export function anthropicStreamProblems(events: readonly NamedSseEvent[]): string[] {
  const problems: string[] = [];
  let open: { index: number; type: string; json: string } | undefined;
  let nextIndex = 0;
  let delta: Json | undefined;
  let stopped = false;
  let toolUse = false;
  events.forEach(({ event, data }, position) => {
    const where = `event ${position}`;
    if (!isObject(data)) {
      problems.push(`${where}: data must be an object`);
      return;
    }
    const type = data['type'];
    if (event !== type)
      problems.push(`${where}: event name ${String(event)} differs from data.type ${String(type)}`);
    if (stopped) problems.push(`${where}: ${String(type)} after message_stop`);
    if (position === 0 && type !== 'message_start')
      problems.push(`${where}: the first event must be message_start`);
    switch (type) {
      case 'message_start': {
        if (position !== 0) problems.push(`${where}: message_start must come first`);
        const message = data['message'];
        if (!isObject(message)) {
          problems.push(`${where}.message: must be an object`);
          break;
        }
        if (typeof message['id'] !== 'string' || !message['id'].startsWith('msg_'))
          problems.push(`${where}.message.id: must start msg_`);
        if (message['type'] !== 'message' || message['role'] !== 'assistant')
          problems.push(`${where}.message: must be an assistant message`);
        if (!Array.isArray(message['content']) || message['content'].length !== 0)
          problems.push(`${where}.message.content: must start empty`);
        if (message['stop_reason'] !== null) problems.push(`${where}.message.stop_reason: must start null`);
        usageProblems(message['usage'], `${where}.message.usage`, problems);
        break;
      }
      case 'ping':
        break;
      case 'content_block_start': {
        if (open !== undefined) problems.push(`${where}: block ${open.index} is still open`);
        if (data['index'] !== nextIndex)
          problems.push(`${where}.index: expected ${nextIndex}, got ${String(data['index'])}`);
        const block = data['content_block'];
        blockProblems(block, `${where}.content_block`, problems, true);
        const blockType = isObject(block) ? String(block['type']) : '';
        if (blockType === 'tool_use') toolUse = true;
        open = { index: typeof data['index'] === 'number' ? data['index'] : -1, type: blockType, json: '' };
        nextIndex += 1;
        break;
      }
      case 'content_block_delta': {
        const change = data['delta'];
        if (open === undefined || data['index'] !== open.index) {
          problems.push(`${where}: a delta for block ${String(data['index'])}, which is not open`);
          break;
        }
        if (!isObject(change)) {
          problems.push(`${where}.delta: must be an object`);
          break;
        }
        if (open.type === 'text') {
          if (change['type'] !== 'text_delta' || typeof change['text'] !== 'string')
            problems.push(`${where}.delta: a text block takes text_delta with text`);
        } else if (open.type === 'tool_use') {
          if (change['type'] !== 'input_json_delta' || typeof change['partial_json'] !== 'string')
            problems.push(`${where}.delta: a tool_use block takes input_json_delta with partial_json`);
          else open.json += change['partial_json'];
        }
        break;
      }
      case 'content_block_stop': {
        if (open === undefined || data['index'] !== open.index) {
          problems.push(`${where}: stops block ${String(data['index'])}, which is not open`);
          break;
        }
        if (open.type === 'tool_use') {
          try {
            const input = JSON.parse(open.json.length === 0 ? '{}' : open.json) as unknown;
            if (!isObject(input)) problems.push(`${where}: the tool input is not a JSON object`);
          } catch {
            problems.push(`${where}: the tool input is not valid JSON: ${open.json}`);
          }
        }
        open = undefined;
        break;
      }
      case 'message_delta': {
        if (open !== undefined) problems.push(`${where}: message_delta while block ${open.index} is open`);
        if (delta !== undefined) problems.push(`${where}: a second message_delta`);
        const change = data['delta'];
        if (
          !isObject(change) ||
          typeof change['stop_reason'] !== 'string' ||
          !STOP_REASONS.has(change['stop_reason'])
        )
          problems.push(`${where}.delta.stop_reason: must be a stop reason`);
        else delta = change;
        const usage = data['usage'];
        if (!isObject(usage) || !isCount(usage['output_tokens']))
          problems.push(`${where}.usage.output_tokens: must be a non-negative integer`);
        break;
      }
      case 'message_stop':
        if (delta === undefined) problems.push(`${where}: message_stop before message_delta`);
        stopped = true;
        break;
      case 'error':
        problems.push(...anthropicErrorProblems(data).map((problem) => `${where}: ${problem}`));
        break;
      default:
        problems.push(`${where}: unexpected event type ${JSON.stringify(type)}`);
    }
  });
  if (!stopped) problems.push('the stream has no message_stop');
  if (delta !== undefined && toolUse !== (delta['stop_reason'] === 'tool_use'))
    problems.push('stop_reason: must be "tool_use" exactly when the stream has tool_use blocks');
  return problems;
}
