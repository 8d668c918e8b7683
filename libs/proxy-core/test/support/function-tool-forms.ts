import type {
  ChatFunctionTool,
  ChatFunctionToolCall,
  ChatTool,
  ChatToolCall,
} from '../../src/wire/openai-chat';

/** The tool if it is a function tool (undefined for a custom tool), for tests reading its `function`. */
export function functionTool(tool: ChatTool | undefined): ChatFunctionTool | undefined {
  return tool?.type === 'function' ? tool : undefined;
}

/** The call if it is a function call (undefined for a custom tool's), for tests reading its `function`. */
export function functionCall(call: ChatToolCall | undefined): ChatFunctionToolCall | undefined {
  return call?.type === 'function' ? call : undefined;
}
