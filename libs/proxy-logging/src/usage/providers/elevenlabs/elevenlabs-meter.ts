import {
  header,
  num,
  record,
  requestFormField,
  requestJson,
  responseJson,
  str,
  succeeded,
  wholeRequestCharacters,
  type MeterExchange,
} from '../../meter-exchange';
import type { MeteredUsage } from '../../metered-usage';
import type { ProviderMeter } from '../../provider-meter';

/**
 * The credits a text to speech call was charged, as its answer reports them: `character-cost`,
 * despite the name a credit a character, half of one on the Flash and Turbo models.
 * @see https://elevenlabs.io/docs/api-reference/introduction (tracking generation costs: the header)
 * @see https://help.elevenlabs.io/hc/en-us/articles/21811236079505-How-do-I-find-the-model-ID
 * (its last paragraph: Flash and Turbo cost a credit per 2 characters)
 */
function chargedCredits(exchange: MeterExchange): number | undefined {
  return num(header(exchange.responseHeaders, 'character-cost'));
}

/**
 * The characters a text to speech call spoke: the request's `text`, else (a body not captured
 * whole) the count the answer gives in `x-character-count`; unknown, not 0, with neither.
 */
function spokenCharacters(exchange: MeterExchange, text: unknown): number | undefined {
  return wholeRequestCharacters(exchange, text) ?? num(header(exchange.responseHeaders, 'x-character-count'));
}

function meter(exchange: MeterExchange): MeteredUsage | undefined {
  if (!succeeded(exchange)) return undefined;
  const path = exchange.url.pathname;
  const request = record(requestJson(exchange));
  if (path.includes('/text-to-speech/')) {
    const model = str(request['model_id']) ?? 'eleven_multilingual_v2';
    // the answer's `character-cost` is the credits charged, not characters (Flash and Turbo
    // charge half a credit a character)
    const characters = spokenCharacters(exchange, request['text']);
    const credits = chargedCredits(exchange);
    if (characters === undefined && credits === undefined) return undefined;
    return {
      provider: 'elevenlabs',
      model,
      operation: 'tts',
      units: {
        ...(characters === undefined ? {} : { characters }),
        ...(credits === undefined ? {} : { credits }),
      },
      // one use in two terms: priced per credit, else per character, never both
      alternativeUnits: [['credits', 'characters']],
    };
  }
  if (path.endsWith('/speech-to-text')) {
    const words = record(responseJson(exchange))['words'];
    const ends = Array.isArray(words) ? words.map((word) => num(record(word)['end']) ?? 0) : [];
    if (ends.length === 0) return undefined;
    return {
      provider: 'elevenlabs',
      // the upload is multipart: the model is a form field next to the file (scribe_v1 when unread)
      model: requestFormField(exchange, 'model_id') ?? 'scribe_v1',
      operation: 'stt',
      units: { audio_seconds: Math.max(...ends) },
    };
  }
  return undefined;
}

/**
 * ElevenLabs: text to speech by the characters of the request's text (the answer's
 * `x-character-count` when the body was not captured whole) and the credits the answer reports
 * (`character-cost`), priced per credit else per character; speech to text by audio seconds,
 * the model named by the upload's `model_id`.
 * @see https://elevenlabs.io/docs/api-reference/text-to-speech/convert
 */
export const elevenLabsMeter: ProviderMeter = {
  name: 'elevenlabs',
  label: 'ElevenLabs',
  hosts: ['api.elevenlabs.io'],
  units:
    'TTS characters (of the request text, else `x-character-count`) and credits (`character-cost`), priced per credit, else per character; STT audio seconds (model from the form field `model_id`)',
  meter,
};
