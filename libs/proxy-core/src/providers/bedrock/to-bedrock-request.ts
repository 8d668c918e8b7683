import { addToTurns, refuseEmptyTurn, type AlternatingTurn } from '../../wire/alternating-turns';
import {
  invalidRequest,
  isBlankText,
  nonBlankTexts,
  parseDataUrl,
  parseToolArguments,
  refuseResponseFormat,
  refuseSeveralChoices,
  refuseTemperatureAboveOne,
  refuseWebSearch,
  stopsWithoutEmpty,
  toolResultCallId,
  toolUseBlockId,
  userContent,
} from '../../wire/chat-message-parts';
import {
  functionToolCalls,
  functionTools,
  refuseFunctionMessage,
  type FunctionToolChoice,
} from '../../wire/function-tools';
import { toolCallText, toolResultText } from '../../wire/tool-history-text';
import type { ChatCompletionRequest, ChatContentPart, ChatMessage } from '../../wire/openai-chat';
import type {
  BedrockContentBlock,
  BedrockConverseRequest,
  BedrockImageFormat,
  BedrockMessage,
  BedrockToolChoice,
} from './bedrock-wire';

const IMAGE_FORMATS: Readonly<Record<string, BedrockImageFormat>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** An OpenAI image URL -> a Converse image block. Only base64 `data:` URLs: Converse fetches nothing. */
function toBedrockImage(url: string, param: string): BedrockContentBlock {
  const inline = parseDataUrl(url, param);
  if (inline === undefined) {
    if (/^https?:\/\//i.test(url)) {
      throw invalidRequest(
        'Bedrock Converse does not fetch image URLs; send the image as a base64 data: URL.',
        param,
      );
    }
    throw invalidRequest('Images must be base64 data: URLs for this provider.', param);
  }
  const format = IMAGE_FORMATS[inline.mediaType.toLowerCase()];
  if (format === undefined)
    throw invalidRequest(`Bedrock accepts png, jpeg, gif and webp images, not "${inline.mediaType}".`, param);
  return { image: { format, source: { bytes: inline.data } } };
}

/** A system, assistant or tool message's text as text blocks, blank ones left out (Converse refuses them). */
function textBlocks(
  content: string | readonly ChatContentPart[] | null | undefined,
): Array<{ text: string }> {
  return nonBlankTexts(content).map((text) => ({ text }));
}

function userBlocks(content: string | ChatContentPart[], param: string): BedrockContentBlock[] {
  // Converse rejects blank text blocks, whitespace only included ("text content blocks must
  // contain non-whitespace text"): blank text says nothing, so it is left out, and a user turn
  // left with nothing to send is refused in `turns`
  if (typeof content === 'string') return isBlankText(content) ? [] : [{ text: content }];
  return content.flatMap((part, index): BedrockContentBlock[] => {
    if (part.type === 'text') return isBlankText(part.text) ? [] : [{ text: part.text }];
    if (part.type === 'image_url')
      return [toBedrockImage(part.image_url.url, `${param}.${index}.image_url.url`)];
    throw invalidRequest(
      `Content part type "${(part as { type: string }).type}" is not supported by this provider.`,
      `${param}.${index}.type`,
    );
  });
}

function messageBlocks(message: ChatMessage, index: number): BedrockContentBlock[] {
  const param = `messages.${index}`;
  switch (message.role) {
    case 'user':
      return userBlocks(userContent(message.content, `${param}.content`), `${param}.content`);
    case 'assistant': {
      // Converse refuses blank text blocks, whitespace only included ("text content blocks
      // must contain non-whitespace text"): an assistant's blank text says nothing, so it is
      // left out, and a turn left empty is dropped below (Converse refuses empty content too)
      const blocks: BedrockContentBlock[] = textBlocks(message.content);
      for (const [t, call] of functionToolCalls(message, param, 'Bedrock').entries()) {
        blocks.push({
          toolUse: {
            toolUseId: toolUseBlockId(call.id),
            name: call.function.name,
            input: parseToolArguments(call.function.arguments, `${param}.tool_calls.${t}.function.arguments`),
          },
        });
      }
      return blocks;
    }
    case 'tool': {
      // `content` is a required list; a blank text block in it is refused like any other, so a
      // blank result (a tool that printed nothing) is sent as an empty list, which Claude models
      // take (some other models on Bedrock refuse it: the client then sees their 400)
      return [
        {
          toolResult: {
            toolUseId: toolUseBlockId(toolResultCallId(message, `${param}.tool_call_id`)),
            content: textBlocks(message.content),
          },
        },
      ];
    }
    case 'system':
    case 'developer':
      return [];
    case 'function':
      return refuseFunctionMessage(param, 'Bedrock');
  }
}

function turns(messages: ChatMessage[]): BedrockMessage[] {
  const result: Array<AlternatingTurn<'user' | 'assistant', BedrockContentBlock>> = [];
  messages.forEach((message, index) => {
    if (message.role === 'system' || message.role === 'developer') return;
    const blocks = messageBlocks(message, index);
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    if (role === 'assistant' && blocks.length === 0) return;
    // Converse wants alternating turns: consecutive tool results (and a user message after
    // them) become one user turn, tool results first
    addToTurns(result, index, role, blocks);
  });
  // A user turn with nothing to send (its messages' text all blank, no image, no tool result):
  // Converse refuses a message with empty content, and leaving it out would make the turn
  // before it the last (an assistant prefill) or join two assistant turns, so the request is
  // refused naming the message
  refuseEmptyTurn(
    result,
    'A user message has nothing to send to Bedrock: its text is empty or whitespace only (which Converse refuses), and no image or tool result goes with it.',
  );
  return result.map((turn) => ({ role: turn.role, content: turn.blocks }));
}

function systemBlocks(messages: ChatMessage[]): Array<{ text: string }> {
  return messages.flatMap((message) => {
    if (message.role !== 'system' && message.role !== 'developer') return [];
    // a blank system text block is refused as a user's is, and says nothing
    return textBlocks(message.content);
  });
}

function usesTools(messages: BedrockMessage[]): boolean {
  return messages.some((message) =>
    message.content.some((block) => block.toolUse !== undefined || block.toolResult !== undefined),
  );
}

/** What a tool result block held, as text. */
function resultText(content: ReadonlyArray<{ text: string } | { json: unknown }>): string {
  return content.map((part) => ('text' in part ? part.text : JSON.stringify(part.json))).join('\n');
}

/**
 * A conversation's tool blocks as text (see toolCallText), for a request that offers no tools
 * (none given, or `tool_choice: "none"`, which Converse does not have): Converse refuses
 * `toolUse` and `toolResult` blocks without a `toolConfig`.
 */
function toolBlocksAsText(messages: BedrockMessage[]): BedrockMessage[] {
  const names = new Map<string, string>();
  for (const message of messages) {
    for (const block of message.content) {
      if (block.toolUse !== undefined) names.set(block.toolUse.toolUseId, block.toolUse.name);
    }
  }
  return messages.map((message) => ({
    role: message.role,
    content: message.content.map((block): BedrockContentBlock => {
      if (block.toolUse !== undefined) return { text: toolCallText(block.toolUse.name, block.toolUse.input) };
      if (block.toolResult !== undefined) {
        const name = names.get(block.toolResult.toolUseId);
        return { text: toolResultText(name, resultText(block.toolResult.content)) };
      }
      return block;
    }),
  }));
}

// `none` never gets here: its request is sent without tools
function toolChoice(choice: FunctionToolChoice | undefined): BedrockToolChoice | undefined {
  if (choice === undefined || choice === 'auto' || choice === 'none') return undefined;
  if (choice === 'required') return { any: {} };
  return { tool: { name: choice.name } };
}

/**
 * The client's `stop` as Converse `stopSequences`. Converse takes sequences of at least one
 * character (whitespace only included) and answers an empty one with a 400 ValidationException,
 * which would end the route: that is refused with `unsupported_feature` naming it (`stop`, or
 * `stop.<i>` in a list) before any upstream call, so another target takes the request.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InferenceConfiguration.html
 */
function stopSequences(stop: ChatCompletionRequest['stop']): string[] | undefined {
  return stopsWithoutEmpty(
    stop,
    'Bedrock Converse refuses an empty stop sequence (each takes at least one character): leave it out of "stop".',
  );
}

/**
 * Whether a Bedrock model id names an Anthropic model: `anthropic.claude-...`, a cross-region
 * inference profile (`us.anthropic.claude-...`) or an ARN ending in either. An application
 * inference profile's ARN does not say which model it runs.
 */
function isClaude(model: string): boolean {
  return /(?:^|[./])anthropic\./.test(model);
}

/**
 * OpenAI chat request -> Converse body: system and developer messages become `system`,
 * tool calls `toolUse` blocks, tool messages `toolResult` blocks in one user turn, base64
 * images `image` blocks; `max_tokens`, `temperature`, `top_p` (not with `temperature` for a
 * Claude `model`) and `stop` go to `inferenceConfig` (a `temperature` above Converse's 1 is
 * refused), `tools` and `tool_choice` to `toolConfig`.
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */
export function toBedrockRequest(request: ChatCompletionRequest, model = ''): BedrockConverseRequest {
  refuseSeveralChoices(request.n, 'Bedrock returns one choice per request; "n" must be 1.');
  refuseWebSearch(request, 'Bedrock');
  refuseResponseFormat(request, 'Bedrock Converse');
  // Converse takes 0 to 1 for every model (its `inferenceConfig.temperature` range)
  refuseTemperatureAboveOne(request, 'Bedrock Converse');
  const body: BedrockConverseRequest = { messages: turns(request.messages) };
  const system = systemBlocks(request.messages);
  if (system.length > 0) body.system = system;
  const inference: NonNullable<BedrockConverseRequest['inferenceConfig']> = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') inference.maxTokens = maxTokens;
  if (typeof request.temperature === 'number') inference.temperature = request.temperature;
  // Claude asks for one of temperature and top_p, and Claude Opus 4.1, Sonnet 4.5, Haiku 4.5 and
  // later refuse the two together, on Bedrock as from Anthropic: temperature goes, as there
  if (typeof request.top_p === 'number' && !(inference.temperature !== undefined && isClaude(model)))
    inference.topP = request.top_p;
  const stops = stopSequences(request.stop);
  if (stops !== undefined) inference.stopSequences = stops;
  if (Object.keys(inference).length > 0) body.inferenceConfig = inference;

  // Converse has no "none": leaving the tools out is the same; a history with tool blocks is
  // then sent as text, which Converse takes without a toolConfig
  // custom tools refused, `allowed_tools` narrowed to its functions: see function-tools.ts
  const offered = functionTools(request, 'Bedrock');
  const tools = offered.choice === 'none' ? [] : offered.tools;
  if (tools.length === 0) {
    if (usesTools(body.messages)) body.messages = toolBlocksAsText(body.messages);
    return body;
  }
  const choice = toolChoice(offered.choice);
  body.toolConfig = {
    tools: tools.map((tool) => ({
      toolSpec: {
        name: tool.function.name,
        ...(tool.function.description === undefined ? {} : { description: tool.function.description }),
        inputSchema: { json: tool.function.parameters ?? { type: 'object', properties: {} } },
      },
    })),
    ...(choice === undefined ? {} : { toolChoice: choice }),
  };
  return body;
}
