import {
  isEventStream,
  num,
  record,
  requestFormField,
  requestJson,
  responseJson,
  sseJson,
  str,
  succeeded,
  topLevelResponseJson,
  wholeRequestCharacters,
  type MeterExchange,
} from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';
import type { TokenUsage } from '../../token-usage';
import { readOpenAIExchange, readOpenAIUsage } from './read-openai-usage';

/**
 * The token usage of a GPT image model's answer, whole or streamed (`image_generation.completed`
 * and `image_edit.completed` carry it). Its output tokens are the generated image's tokens
 * unless `output_tokens_details` splits them. A whole answer past the capture bound (a few large
 * base64 images) is read from its kept tail, where its `usage` follows `data`.
 * @see https://platform.openai.com/docs/api-reference/images/object
 */
function imageTokens(exchange: MeterExchange): TokenUsage | undefined {
  let tokens: TokenUsage | undefined;
  if (isEventStream(exchange)) {
    for (const { json } of sseJson(exchange)) tokens = readOpenAIUsage(record(json)['usage']) ?? tokens;
  } else {
    tokens = readOpenAIUsage(record(topLevelResponseJson(exchange, 'usage'))['usage']);
  }
  if (tokens !== undefined && tokens.imageOutputTokens === undefined)
    tokens.imageOutputTokens = tokens.outputTokens;
  return tokens;
}

/**
 * The token usage of a streamed speech answer (`speech.audio.done`); its output tokens are audio.
 * @see https://platform.openai.com/docs/api-reference/audio/speech-audio-done-event
 */
function speechTokens(exchange: MeterExchange): TokenUsage | undefined {
  let tokens: TokenUsage | undefined;
  for (const { json } of sseJson(exchange)) tokens = readOpenAIUsage(record(json)['usage']) ?? tokens;
  if (tokens !== undefined && tokens.audioOutputTokens === undefined)
    tokens.audioOutputTokens = tokens.outputTokens;
  return tokens;
}

// OpenAI's speech models billed by tokens (gpt-4o-mini-tts and its snapshots)
const TOKEN_BILLED_TTS = /^gpt-[\w.-]*tts/;

/**
 * The price variant of a DALL·E image, `<quality>/<size>` (`hd/1792x1024`): DALL·E reports no
 * usage and bills a flat price per image by quality and size, which only the request says
 * (JSON, or the form fields of an edit or variation), with the API's defaults (standard,
 * 1024x1024) where it does not.
 * @see https://platform.openai.com/docs/api-reference/images/create
 */
function dallEVariant(model: string, field: (name: string) => string | undefined): string | undefined {
  if (!model.startsWith('dall-e-')) return undefined;
  // `auto` is what the API does without the field, so it is the default too; and dall-e-2 has
  // one quality whatever the request says (else `auto/1792x1024` or `hd/256x256` would find no
  // list price and fall to the model's 1024x1024 one: half an HD wide image, more than a small one)
  const quality = field('quality');
  const size = field('size');
  const billedQuality =
    model.startsWith('dall-e-2') || quality === undefined || quality === 'auto' ? 'standard' : quality;
  return `${billedQuality}/${size === undefined || size === 'auto' ? '1024x1024' : size}`;
}

/** Meters OpenAI-shaped exchanges for a provider name (shared by OpenAI-compatible APIs). */
export function meterOpenAIShaped(
  name: string,
  exchange: MeterExchange,
  usageKeys?: readonly string[],
): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const request = record(requestJson(exchange));
  const requestModel = str(request['model']);
  if (path.endsWith('/audio/speech')) {
    // the characters are the request's `input`: a body not captured, or cut by the capture bound
    // (whose head and tail may still parse), leaves them unknown, not 0
    const characters = wholeRequestCharacters(exchange, request['input']);
    const model = requestModel ?? 'tts-1';
    // gpt-4o-mini-tts bills text input and audio output tokens, which only its event stream
    // (`stream_format: "sse"`) reports, in `speech.audio.done`
    const tokens = isEventStream(exchange) ? speechTokens(exchange) : undefined;
    if (tokens !== undefined)
      return {
        provider: name,
        model,
        operation: 'tts',
        tokens,
        units: {},
        ...(characters === undefined ? {} : { attributes: { characters } }),
      };
    if (characters === undefined) return undefined;
    // tts-1 and tts-1-hd (and the speech models of OpenAI-compatible hosts) bill per character
    if (!TOKEN_BILLED_TTS.test(model))
      return { provider: name, model, operation: 'tts', units: { characters } };
    // A token-billed model's plain audio answer says nothing of its tokens, and is left unpriced
    // on purpose. Its audio output tokens ($12/M against $0.60/M for the text in) make nearly
    // all of the cost, and no count of them can be derived: how many a second of speech takes
    // is not published, compressed formats do not give the duration, and the "$0.015 a minute"
    // OpenAI states is an estimate, not what it bills. Pricing the input text alone would be a
    // silent undercount, so the cost is unknown with its reason (a per-character rate set in
    // `pricing.units` for the model is the user's own estimate, and is used).
    return {
      provider: name,
      model,
      operation: 'tts',
      units: { characters },
      unpricedReason: 'audio_tokens_unreported',
    };
  }
  if (path.endsWith('/audio/transcriptions') || path.endsWith('/audio/translations')) {
    // streamed (`stream: true`), the usage comes in the last event, `transcript.text.done`
    const body = isEventStream(exchange) ? transcriptDone(exchange) : record(responseJson(exchange));
    const usage = record(body['usage']);
    // the upload is multipart: the model is a form field next to the file (whisper-1 when unread)
    const model = requestModel ?? requestFormField(exchange, 'model') ?? 'whisper-1';
    const tokens = readOpenAIUsage(usage);
    if (tokens !== undefined) return { provider: name, model, operation: 'stt', tokens, units: {} };
    const seconds = num(usage['seconds']) ?? num(body['duration']);
    if (seconds === undefined) return undefined;
    return { provider: name, model, operation: 'stt', units: { audio_seconds: seconds } };
  }
  if (
    path.endsWith('/images/generations') ||
    path.endsWith('/images/edits') ||
    path.endsWith('/images/variations')
  ) {
    const model = requestModel ?? requestFormField(exchange, 'model') ?? 'dall-e-2';
    const tokens = imageTokens(exchange);
    if (tokens !== undefined) return { provider: name, model, operation: 'image', tokens, units: {} };
    const field = (name: string): string | undefined =>
      str(request[name]) ?? requestFormField(exchange, name);
    const images = answeredImages(exchange, model, request, field);
    if (images === undefined || images === 0) return undefined;
    const variant = dallEVariant(model, field);
    return {
      provider: name,
      model,
      operation: 'image',
      units: { images },
      ...(variant === undefined ? {} : { priceVariant: variant }),
    };
  }
  if (ASSISTANTS_PATH.test(path)) return meterAssistantsRun(name, exchange);
  const { tokens, model, id } = readOpenAIExchange(exchange, usageKeys);
  if (tokens === undefined) return undefined;
  const named = model === undefined ? {} : { model };
  // a stored chat completion read back (`GET /chat/completions/{id}`, `store: true`) was billed
  // when it was made: the read costs nothing
  if (exchange.method === 'GET' && STORED_CHAT_COMPLETION.test(path))
    return {
      provider: name,
      ...named,
      operation: 'chat',
      units: {},
      attributes: { billed_before: id ?? '' },
      alreadyBilled: id ?? '',
    };
  if (RESPONSES_PATH.test(path)) {
    // a response is billed once, by whichever exchange shows its usage first: its creation, or
    // with `background: true` the poll (`GET /responses/{id}`) that finds it done; reading it
    // again later is metered at no cost (the registry remembers its id)
    return {
      provider: name,
      ...named,
      operation: 'responses',
      tokens,
      units: {},
      ...(id === undefined ? {} : { billedObject: id }),
    };
  }
  const operation = path.endsWith('/embeddings') ? 'embeddings' : 'chat';
  return { provider: name, ...named, operation, tokens, units: {} };
}

/**
 * The images of an answer without usage (DALL·E's): those of `data`; for a DALL·E answer the
 * capture bound cut (ten base64 images of `dall-e-2` pass 8 MiB), the request's `n` (the API's
 * default, 1, without it), which the answer holds as many of, when the request was kept whole.
 * Undefined when neither is known: a cut answer of another model (a GPT image model's whose
 * usage did not come) is not counted by its request.
 */
function answeredImages(
  exchange: MeterExchange,
  model: string,
  request: Record<string, unknown>,
  field: (name: string) => string | undefined,
): number | undefined {
  if (exchange.responseTruncated !== true) {
    const data = record(responseJson(exchange))['data'];
    return Array.isArray(data) ? data.length : undefined;
  }
  // a request cut by its capture bound (an edit's uploaded image) may have lost its `n`
  if (
    !model.startsWith('dall-e-') ||
    exchange.requestTruncated === true ||
    exchange.requestText === undefined
  )
    return undefined;
  return num(request['n']) ?? num(field('n')) ?? 1;
}

/** `…/threads/…`: the Assistants API (threads, their messages and runs, the runs' steps). */
const ASSISTANTS_PATH = /\/threads(?:\/|$)/;

/**
 * The usage of an Assistants API exchange: a run's, billed once (`billedObject`: its id) by the
 * first exchange that shows it finished (a poll, `GET …/runs/{run}`, or a stream's
 * `thread.run.completed`), its later reads at no cost. A run's `usage` is null until it ends,
 * then the sum of its steps': a step read (`GET …/steps/{step}`) is metered at no cost, as part
 * of its run's, and a stream's step events are not counted apart from the run.
 * @see https://platform.openai.com/docs/api-reference/runs/object
 * @see https://platform.openai.com/docs/api-reference/run-steps/step-object
 * @see https://platform.openai.com/docs/api-reference/assistants-streaming/events
 */
function meterAssistantsRun(name: string, exchange: MeterExchange): MeteredUsage | undefined {
  // whole: one object (a run, a step, a message, a list); streamed: the events' objects
  const objects = isEventStream(exchange)
    ? sseJson(exchange).map(({ json }) => record(json))
    : [record(responseJson(exchange))];
  const step = objects.length === 1 && objects[0]?.['object'] === 'thread.run.step' ? objects[0] : undefined;
  if (step !== undefined) {
    const run = str(step['run_id']) ?? '';
    return {
      provider: name,
      operation: 'chat',
      units: {},
      attributes: { billed_with_run: run },
      alreadyBilled: run,
    };
  }
  let tokens: TokenUsage | undefined;
  let model: string | undefined;
  let id: string | undefined;
  for (const object of objects) {
    if (object['object'] !== 'thread.run') continue;
    model = str(object['model']) ?? model;
    id = str(object['id']) ?? id;
    tokens = readOpenAIUsage(object['usage']) ?? tokens;
  }
  if (tokens === undefined) return undefined;
  return {
    provider: name,
    ...(model === undefined ? {} : { model }),
    operation: 'chat',
    tokens,
    units: {},
    ...(id === undefined ? {} : { billedObject: id }),
  };
}

/** `…/chat/completions/{id}`: one stored chat completion (not its `/messages`). */
const STORED_CHAT_COMPLETION = /\/chat\/completions\/[^/]+$/;
/** `…/responses`, `…/responses/{id}` and `…/responses/{id}/cancel`: a Responses API response. */
const RESPONSES_PATH = /\/responses(?:\/[^/]+(?:\/cancel)?)?$/;

/**
 * The `transcript.text.done` event of a streamed transcription (its text and usage); empty when
 * the stream has none (cut, or not a transcription's).
 * @see https://platform.openai.com/docs/api-reference/audio/transcript-text-done-event
 */
function transcriptDone(exchange: MeterExchange): Record<string, unknown> {
  let done: Record<string, unknown> = {};
  for (const { json } of sseJson(exchange)) {
    const event = record(json);
    if (event['type'] === 'transcript.text.done') done = event;
  }
  return done;
}

/**
 * OpenAI: chat completions and the Responses API (whole and streamed), embeddings, speech
 * (characters), transcription (seconds or tokens) and images.
 * @see https://platform.openai.com/docs/api-reference
 */
export const openAIMeter: ProviderMeter = {
  name: 'openai',
  label: 'OpenAI',
  hosts: ['api.openai.com'],
  units:
    'tokens (input, cached, output, reasoning, audio, image); TTS characters or tokens; STT seconds; images; web searches',
  meter: (exchange) => meterOpenAIShaped('openai', exchange),
};
