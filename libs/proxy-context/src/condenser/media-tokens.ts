import type { ChatMessage } from '@switchyard/proxy-core';

/**
 * Estimates of the prompt tokens of content parts that are not text (images, input audio,
 * files). The provider turns each into tokens the gateway cannot count before the call, so
 * each is charged from what the request shows of it: its kind, its byte size and, for WAV,
 * its header. A payload is never decoded whole.
 */

/**
 * Prompt tokens per second of input audio. OpenAI: "Audio tokens in user messages are 1 token
 * per 100 ms of audio". Published for the Realtime API (gpt-realtime, gpt-4o-realtime-preview);
 * used for the chat audio models (gpt-4o-audio-preview, gpt-audio) too, which take the same
 * `input_audio` and have no other published rate.
 * @see https://developers.openai.com/api/docs/guides/realtime-costs
 */
export const AUDIO_TOKENS_PER_SECOND = 10;

/**
 * Bytes per second assumed for mp3 (and any audio format but WAV): 320 kbit/s, the highest bitrate
 * MPEG-1 Layer III defines, so that a clip is never counted longer than it is (its bitrate is not
 * read from the file): one encoded at LAME's default 128 kbit/s counts 40% of its length, speech
 * at 64 kbit/s 20%. Counted short, an overflow is left to the provider's own refusal.
 */
export const COMPRESSED_AUDIO_BYTES_PER_SECOND = 320_000 / 8;

/**
 * Bytes per second assumed for WAV data whose header cannot be read: OpenAI's `pcm16` layout,
 * "16-bit PCM at a 24kHz sample rate, single channel (mono)".
 * @see https://platform.openai.com/docs/api-reference/realtime-sessions/create
 */
export const PCM16_BYTES_PER_SECOND = 24_000 * 2;

/**
 * Base64 characters decoded to find a WAV file's `fmt ` chunk and byte rate: the first 4 KiB,
 * room for the chunks some writers put before it (`JUNK`, a broadcast WAV's 602-byte `bext`).
 */
export const WAV_HEADER_BASE64_CHARS = 5_464;

/**
 * Text tokens per PDF page: the low end of Anthropic's documented 1,500-3,000 ("Each page
 * typically uses 1,500-3,000 tokens per page depending on content density"). Each page is also
 * given to the model as an image, charged as one image part (`imageTokens`): Anthropic and
 * OpenAI both put "the extracted text and an image of each page" in the context.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/pdf-support#estimate-your-costs
 * @see https://developers.openai.com/api/docs/guides/pdf-files
 */
export const PDF_TEXT_TOKENS_PER_PAGE = 1_500;

/**
 * Base64 characters of a PDF's head decoded to find a linearized file's page count: its
 * linearization dictionary (`<< /Linearized 1 ... /N 36 ... >>`) is the first object of the file,
 * within its first kilobyte ("Fast Web View" files, as most PDFs served on the web are).
 * @see https://opensource.adobe.com/dc-acrobat-sdk-docs/pdfstandards/PDF32000_2008.pdf (Annex F)
 */
export const PDF_HEAD_BASE64_CHARS = 1_368;

// a linearization dictionary, and its file length (`/L`) and page count (`/N`) entries
const LINEARIZATION_DICT = /\/Linearized\s[^>]*>>/;
const LINEARIZED_LENGTH = /\/L\s+(\d{1,12})\b/;
const LINEARIZED_PAGES = /\/N\s+(\d{1,6})\b/;

/**
 * Lowest byte rate taken from a WAV header: GSM 6.10 at 8 kHz, about the leanest codec WAV
 * carries, takes 1,625 bytes a second. A lower one is a damaged header, not a longer clip.
 */
const MIN_WAV_BYTES_PER_SECOND = 1_000;

/** Where the base64 payload of a text starts: after a `data:` URL's comma, else at 0. */
function payloadStart(value: string): number {
  // a data URL's prefix is short: the comma is found within its first characters
  return value.startsWith('data:') ? value.indexOf(',') + 1 : 0;
}

/** The decoded size of a base64 text (a `data:` URL's payload when it is one), without decoding it. */
function base64Bytes(value: string): number {
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor(((value.length - payloadStart(value)) * 3) / 4) - padding);
}

/**
 * Bytes per second of a base64 WAV file and where its samples start, from its first chunks
 * (samples start at 0 when the `data` chunk is not among them); undefined when it does not open
 * with a RIFF/WAVE header holding a `fmt ` chunk of a plausible byte rate.
 * @see https://www.mmsp.ece.mcgill.ca/Documents/AudioFormats/WAVE/WAVE.html
 */
function wavLayout(base64: string): { byteRate: number; dataOffset: number } | undefined {
  const start = payloadStart(base64);
  const head = Buffer.from(base64.slice(start, start + WAV_HEADER_BASE64_CHARS), 'base64');
  if (
    head.length < 12 ||
    head.toString('latin1', 0, 4) !== 'RIFF' ||
    head.toString('latin1', 8, 12) !== 'WAVE'
  )
    return undefined;
  let byteRate = 0;
  let dataOffset = 0;
  for (let offset = 12; offset + 8 <= head.length;) {
    const id = head.toString('latin1', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    // fmt: format tag, channels, sample rate, then the average bytes per second
    if (id === 'fmt ' && offset + 20 <= head.length) byteRate = head.readUInt32LE(offset + 16);
    if (id === 'data') {
      dataOffset = offset + 8;
      break;
    }
    // chunks are padded to an even size
    offset += 8 + size + (size % 2);
  }
  return byteRate < MIN_WAV_BYTES_PER_SECOND ? undefined : { byteRate, dataOffset };
}

/** Tokens of an `input_audio` part's clip: its duration at {@link AUDIO_TOKENS_PER_SECOND}. */
function audioTokens(audio: unknown): number {
  if (typeof audio !== 'object' || audio === null) return 0;
  const { data, format } = audio as { data?: unknown; format?: unknown };
  if (typeof data !== 'string') return 0;
  const bytes = base64Bytes(data);
  let seconds = bytes / COMPRESSED_AUDIO_BYTES_PER_SECOND;
  if (format === 'wav') {
    const layout = wavLayout(data);
    seconds =
      layout === undefined
        ? bytes / PCM16_BYTES_PER_SECOND
        : (bytes - Math.min(bytes, layout.dataOffset)) / layout.byteRate;
  }
  return Math.ceil(seconds * AUDIO_TOKENS_PER_SECOND);
}

/**
 * The pages of a base64 PDF as its head states them (a linearized file's `/N`); undefined when
 * it does not (a file that is not linearized states its page count somewhere in its body,
 * possibly inside a compressed stream, which is not read). The count holds only while the file
 * is as linearized: an incremental update (a form filled, a signature, an annotation) appends to
 * it and may add or remove pages, and leaves its length unlike the dictionary's `/L`, which then
 * "shall be" taken as not linearized (PDF 32000, Annex F).
 */
function statedPdfPages(base64: string): number | undefined {
  const start = payloadStart(base64);
  const head = Buffer.from(base64.slice(start, start + PDF_HEAD_BASE64_CHARS), 'base64').toString('latin1');
  if (!head.startsWith('%PDF-')) return undefined;
  const dict = LINEARIZATION_DICT.exec(head)?.[0];
  if (dict === undefined) return undefined;
  const length = LINEARIZED_LENGTH.exec(dict)?.[1];
  const pages = LINEARIZED_PAGES.exec(dict)?.[1];
  if (length === undefined || pages === undefined || Number(length) !== exactBase64Bytes(base64))
    return undefined;
  return Math.max(1, Number(pages));
}

/**
 * The decoded size of a base64 text as {@link base64Bytes}, the whitespace a line-wrapped
 * encoding holds (76-column MIME lines, a trailing newline) left out: counted only when there is
 * some, a scan of the whole text.
 */
function exactBase64Bytes(value: string): number {
  const start = payloadStart(value);
  if (!/\s/.test(value.slice(start, start + 80)) && !/\s$/.test(value)) return base64Bytes(value);
  let chars = 0;
  let padding = 0;
  for (let i = start; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // space, tab, CR, LF
    if (c === 32 || c === 9 || c === 13 || c === 10) continue;
    chars++;
    padding = c === 61 ? padding + 1 : 0;
  }
  return Math.max(0, Math.floor((chars * 3) / 4) - Math.min(2, padding));
}

/**
 * Tokens of a `file` part, as a PDF: {@link PDF_TEXT_TOKENS_PER_PAGE} and one image per page.
 * The pages are those a linearized file states in its head; any other file counts as one page,
 * the least a PDF takes. Its size says little (a text page is 7-8 kB, a scanned one 100 kB to
 * 4 MB), and an estimate counted long would make the gateway refuse, or condense away, a file
 * the provider takes; one counted short leaves an overflow to the provider's own refusal (which
 * `fallbackOn.contextLengthExceeded` can act on). A `file_id` names an uploaded file unseen here:
 * one page too.
 */
function fileTokens(file: unknown, imageTokens: number): number {
  const data =
    typeof file === 'object' && file !== null ? (file as { file_data?: unknown }).file_data : undefined;
  const pages = typeof data === 'string' ? (statedPdfPages(data) ?? 1) : 1;
  return pages * (PDF_TEXT_TOKENS_PER_PAGE + imageTokens);
}

/**
 * Tokens of a message's image, audio and file parts: `imageTokens` per image, the estimates
 * above for audio and files; 0 for text, refusals (counted as text) and parts of other types.
 */
export function mediaTokens(content: ChatMessage['content'], imageTokens: number): number {
  if (!Array.isArray(content)) return 0;
  let tokens = 0;
  for (const part of content as unknown[]) {
    if (typeof part !== 'object' || part === null) continue;
    const { type } = part as { type?: unknown };
    if (type === 'image_url') tokens += imageTokens;
    else if (type === 'input_audio') tokens += audioTokens((part as { input_audio?: unknown }).input_audio);
    else if (type === 'file') tokens += fileTokens((part as { file?: unknown }).file, imageTokens);
  }
  return tokens;
}

/** The refusals of a message, counted as text: an assistant's `refusal` field and `refusal` parts. */
export function refusalTexts(message: ChatMessage): string[] {
  // any role: lenient, as the request schema is; only an assistant's is typed
  const { refusal, content } = message as { refusal?: unknown; content?: unknown };
  const texts = typeof refusal === 'string' && refusal.length > 0 ? [refusal] : [];
  if (Array.isArray(content)) {
    for (const part of content as unknown[]) {
      const { type, refusal: text } = (part ?? {}) as { type?: unknown; refusal?: unknown };
      if (type === 'refusal' && typeof text === 'string') texts.push(text);
    }
  }
  return texts;
}
