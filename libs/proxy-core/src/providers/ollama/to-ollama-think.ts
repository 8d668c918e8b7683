import type { ChatCompletionRequest } from '../../wire/openai-chat';
import { effortAtMost, reasoningEffortOf } from '../../wire/reasoning-effort';

// gpt-oss (`gpt-oss:20b`, `gpt-oss:120b-cloud`), gpt-oss-safeguard and a GGUF import of either
// (`hf.co/unsloth/gpt-oss-20b-GGUF`, `hf.co/bartowski/openai_gpt-oss-20b-GGUF`): Ollama runs them
// with its harmony parser, the one that takes a thinking level; they cannot stop thinking. Ollama
// decides that by the model's architecture, which the gateway cannot see: this is a guess from
// the name, which leaves out a model whose name merely starts with gpt-oss (a distillation into
// another family) and may miss a gpt-oss renamed past recognition (which then thinks at its default)
const LEVELLED = /(?:^|[/_])gpt-oss(?:-safeguard)?(?::|-\d|$)/i;

/**
 * OpenAI's `reasoning_effort` as Ollama's `think` for `model` (the upstream model id), undefined
 * when the request sets none or Ollama could refuse the only value that would say it.
 *
 * Ollama refuses `think: true` (or a level) for a model without the thinking capability (400
 * `"<model>" does not support thinking`) and a level for any model but gpt-oss (400 `think value
 * "low" is not supported for this model`), and the gateway cannot see a model's capabilities in
 * its id. So: gpt-oss gets the level (`low` for `none`, `minimal` and `low`, as it always thinks;
 * `medium`; `high` for `high` and `xhigh`); any other model gets `think: false` for `none` (which
 * turns a thinking model's thinking off and which every model takes) and nothing for the other
 * efforts, under which a thinking model thinks as it does by default. An effort a client sends to
 * every model thus never turns a request that worked without it into a 400. An effort OpenAI does
 * not define is refused as `invalid_request`.
 * @see https://docs.ollama.com/capabilities/thinking
 */
export function toOllamaThink(
  request: ChatCompletionRequest,
  model: string,
): boolean | 'low' | 'medium' | 'high' | undefined {
  const effort = reasoningEffortOf(request);
  if (effort === undefined) return undefined;
  if (LEVELLED.test(model)) {
    if (effortAtMost(effort, 'low')) return 'low';
    return effort === 'medium' ? 'medium' : 'high';
  }
  return effort === 'none' ? false : undefined;
}
