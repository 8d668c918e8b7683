/**
 * The text a tool call of a conversation's history becomes where the request offers no tools:
 * Anthropic and Bedrock refuse tool call and result blocks in a request that defines no tools
 * ("Requests which include `tool_use` or `tool_result` blocks must define tools", "The toolConfig
 * field must be defined when using toolUse and toolResult content blocks"), and tools made up to
 * satisfy them would let the model call what the client did not offer. A final turn without
 * tools (a summary of what the tools found) then reads each call and result in place, as text.
 */
export function toolCallText(name: string, input: unknown): string {
  return `[tool call: ${name}(${JSON.stringify(input ?? {})})]`;
}

/** The text a tool result of such a history becomes; `name` is its call's tool, when known. */
export function toolResultText(name: string | undefined, output: string): string {
  return `[tool result of ${name ?? 'a tool'}: ${output.length === 0 ? '(no output)' : output}]`;
}
