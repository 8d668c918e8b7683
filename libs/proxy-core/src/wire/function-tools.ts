import { invalidRequest, unsupportedFeature } from './chat-message-parts';
import type {
  ChatAssistantMessage,
  ChatCompletionRequest,
  ChatFunctionTool,
  ChatFunctionToolCall,
  ChatToolReference,
} from './openai-chat';

// The providers that translate OpenAI's request (Anthropic, Bedrock, Gemini, Cohere, Ollama) call
// functions only: JSON arguments against a schema. OpenAI's other tool forms either map onto that
// (`allowed_tools`: the functions it names, offered alone) or are refused here with
// `unsupported_feature` naming the field, so the route's next target (an OpenAI-wire provider,
// which forwards them as sent) is tried: a custom tool's free-form input in a grammar has no
// function equivalent, and left out, the model would answer without a tool the client offered.
// OpenAI's legacy function calling (`functions`, `function_call`, an assistant's `function_call`,
// `function` messages) is refused the same way: its functions map onto tools, but its answer
// (`message.function_call`, `delta.function_call`, finish reason `function_call`) carries one call
// where these providers may make several, and a client asking for it reads no `tool_calls`.

/** A tool choice for a provider that calls functions only: none, as the model decides, at least one, or one named. */
export type FunctionToolChoice = 'none' | 'auto' | 'required' | { readonly name: string };

/** A request's tools and tool choice for a provider that calls functions only (see {@link functionTools}). */
export interface FunctionTools {
  /** The function tools to offer, in the request's order: those `allowed_tools` names, when it is the choice. */
  readonly tools: ChatFunctionTool[];
  /** The request's tool choice; undefined when it gives none. */
  readonly choice: FunctionToolChoice | undefined;
}

const LEGACY_FUNCTIONS =
  'does not take legacy function calling (deprecated by OpenAI), whose answer is a "function_call" rather than "tool_calls": send "tools" and "tool_choice", or use an OpenAI-wire provider (`openai`, `azure-openai`)';

/**
 * Refuses OpenAI's legacy `functions`, and a `function_call` naming a function, with
 * `unsupported_feature` naming the field. `function_call: "none"` or `"auto"` without
 * `functions` asks nothing and is taken.
 */
function refuseLegacyFunctions(
  request: ChatCompletionRequest,
  who: string,
  provider: string | undefined,
): void {
  if (request.functions !== undefined && request.functions !== null)
    throw unsupportedFeature(
      `${who} ${LEGACY_FUNCTIONS}; the request has "functions".`,
      'functions',
      provider,
    );
  const call: unknown = request.function_call;
  if (typeof call === 'object' && call !== null)
    throw unsupportedFeature(
      `${who} ${LEGACY_FUNCTIONS}; the request has a "function_call" naming a function.`,
      'function_call',
      provider,
    );
}

const CUSTOM_TOOLS =
  'calls functions only (JSON arguments): custom tools (free-form input, GPT-5) need an OpenAI-wire provider (`openai`, `azure-openai`) and a model that takes them';

function referencedName(
  reference: ChatToolReference,
  param: string,
  who: string,
  provider: string | undefined,
): string {
  if (reference.type === 'custom')
    throw unsupportedFeature(
      `${who} ${CUSTOM_TOOLS}; "${param}" names custom tool "${reference.custom.name}".`,
      param,
      provider,
    );
  return reference.function.name;
}

/**
 * The request's tools and tool choice for a provider that calls functions only. A custom tool
 * (`tools.<i>`), a tool choice naming one (`tool_choice`, `tool_choice.allowed_tools.tools.<k>`),
 * legacy `functions` and a `function_call` naming a function (with `tools` or without) are
 * refused with `unsupported_feature` naming the field. `allowed_tools` becomes the function
 * tools it names, offered alone, and its `mode` (`auto`, `required`) the choice; naming none of
 * the request's functions is `invalid_request`. `who` names the provider in messages;
 * `provider`, when given, names the configured provider in the error too.
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-tool_choice
 */
export function functionTools(request: ChatCompletionRequest, who: string, provider?: string): FunctionTools {
  refuseLegacyFunctions(request, who, provider);
  const tools: ChatFunctionTool[] = [];
  for (const [index, tool] of (request.tools ?? []).entries()) {
    if (tool.type === 'custom')
      throw unsupportedFeature(
        `${who} ${CUSTOM_TOOLS}; "tools.${index}" is custom tool "${tool.custom.name}".`,
        `tools.${index}`,
        provider,
      );
    tools.push(tool);
  }
  const choice = request.tool_choice;
  if (choice === undefined || typeof choice === 'string') return { tools, choice };
  if (choice.type !== 'allowed_tools')
    return { tools, choice: { name: referencedName(choice, 'tool_choice', who, provider) } };
  const allowed = new Set(
    choice.allowed_tools.tools.map((reference, k) =>
      referencedName(reference, `tool_choice.allowed_tools.tools.${k}`, who, provider),
    ),
  );
  const offered = tools.filter((tool) => allowed.has(tool.function.name));
  if (offered.length === 0)
    throw invalidRequest(
      '"tool_choice.allowed_tools.tools" names none of the function tools of "tools".',
      'tool_choice.allowed_tools.tools',
    );
  return { tools: offered, choice: choice.allowed_tools.mode };
}

/**
 * An assistant message's tool calls for a provider that calls functions only: a call of a
 * custom tool (a conversation that used one at OpenAI) is refused with `unsupported_feature`
 * naming `<param>.tool_calls.<t>`, a legacy `function_call` naming `<param>.function_call`
 * (`param` is the message's `messages.<i>`).
 */
export function functionToolCalls(
  message: ChatAssistantMessage,
  param: string,
  who: string,
  provider?: string,
): ChatFunctionToolCall[] {
  const legacy: unknown = message.function_call;
  if (typeof legacy === 'object' && legacy !== null)
    throw unsupportedFeature(
      `${who} ${LEGACY_FUNCTIONS}; "${param}" is an assistant message with a "function_call".`,
      `${param}.function_call`,
      provider,
    );
  const result: ChatFunctionToolCall[] = [];
  for (const [t, call] of (message.tool_calls ?? []).entries()) {
    if (call.type === 'custom')
      throw unsupportedFeature(
        `${who} ${CUSTOM_TOOLS}; "${param}.tool_calls.${t}" calls custom tool "${call.custom.name}".`,
        `${param}.tool_calls.${t}`,
        provider,
      );
    result.push(call);
  }
  return result;
}

/**
 * Refuses a legacy `function` message (the result of a deprecated `function_call`) for a
 * provider whose translation pairs results with tool calls: `unsupported_feature` naming
 * `<param>.role` (`param` is the message's `messages.<i>`).
 */
export function refuseFunctionMessage(param: string, who: string, provider?: string): never {
  throw unsupportedFeature(
    `${who} does not take legacy "function" messages (results of a deprecated "function_call"): send "tool_calls" and "tool" messages, or use an OpenAI-wire provider.`,
    `${param}.role`,
    provider,
  );
}
