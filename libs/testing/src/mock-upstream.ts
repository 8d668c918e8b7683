import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { faultMatches, type MockFault } from './mock-fault';
import { anthropicRoutes } from './anthropic/anthropic-routes';
import { azureOpenAIRoutes } from './azure-openai/azure-openai-routes';
import { openAIRoutes } from './openai/openai-routes';
import { geminiRoutes } from './gemini/gemini-routes';
import { ollamaRoutes } from './ollama/ollama-routes';
import { cohereRoutes } from './cohere/cohere-routes';
import { bedrockInvokeRoutes } from './bedrock/bedrock-invoke-routes';
import { bedrockRoutes } from './bedrock/bedrock-routes';
import { vertexRoutes } from './vertex/vertex-routes';

/** One request the mock upstream received. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
  /** True when the client went away before the response ended. */
  aborted: boolean;
}

/** What a route handler gets. */
export interface MockExchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  body: unknown;
  /** The request body exactly as received. */
  rawBody: Buffer;
  /** The stream fault in force for this request, if any. */
  streamFault:
    Extract<MockFault, { kind: 'cut-stream' | 'stream-error' | 'stall-stream' | 'slow-stream' }> | undefined;
  options: Required<MockUpstreamOptions>;
}

/** A route of the mock upstream: a provider's endpoint answered in its real wire format. */
export interface MockRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: RegExp;
  handle(exchange: MockExchange): Promise<void> | void;
}

/** Options of {@link createMockUpstream}. */
export interface MockUpstreamOptions {
  /** Extra routes, tried before the built-in ones. @default [] */
  routes?: MockRoute[];
  /** Text of chat replies. @default the reply of OpenAI's documented example */
  replyText?: string;
  /** How many content chunks a streamed reply is split into. @default 10 */
  streamChunks?: number;
  /**
   * The OpenAI-shaped `usage` chat replies report (streamed and not), e.g. with cached and
   * reasoning tokens. @default OpenAI's documented example (19 prompt, 10 completion tokens)
   */
  chatUsage?: Record<string, unknown>;
  /**
   * How many of the latest requests {@link MockUpstream.requests} keeps: past it the oldest
   * is dropped, so a long run (a benchmark, a soak) cannot grow it without bound. 0 records
   * none; `request` and `aborted` events are emitted either way. @default 10_000
   */
  maxRecordedRequests?: number;
}

/** A running mock upstream. */
export interface MockUpstream {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The requests received, oldest first: the latest `maxRecordedRequests` of them. */
  readonly requests: RecordedRequest[];
  /** Emits `request` (RecordedRequest) and `aborted` (RecordedRequest). */
  readonly events: EventEmitter;
  /** Adds a fault; faults are consulted in the order added. */
  fault(fault: MockFault): void;
  /** Removes every fault and recorded request. */
  reset(): void;
  /** Resolves when the next request is aborted by its client. */
  nextAbort(): Promise<RecordedRequest>;
  close(): Promise<void>;
}

const DEFAULTS: Required<MockUpstreamOptions> = {
  routes: [],
  replyText: '\n\nHello there, how may I assist you today?',
  streamChunks: 10,
  chatUsage: {
    prompt_tokens: 19,
    completion_tokens: 10,
    total_tokens: 29,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  },
  maxRecordedRequests: 10_000,
};

async function readBody(req: IncomingMessage): Promise<{ body: unknown; raw: Buffer }> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const raw = Buffer.concat(parts);
  const text = raw.toString('utf8');
  if (text.length === 0) return { body: undefined, raw };
  try {
    return { body: JSON.parse(text) as unknown, raw };
  } catch {
    return { body: text, raw };
  }
}

/**
 * Starts an HTTP server on a free loopback port that answers like the providers do (their
 * documented wire formats), records the latest requests, and injects faults on demand.
 */
export async function createMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const settings: Required<MockUpstreamOptions> = { ...DEFAULTS, ...options };
  const { maxRecordedRequests } = settings;
  if (!Number.isInteger(maxRecordedRequests) || maxRecordedRequests < 0)
    throw new RangeError(`maxRecordedRequests must be a non-negative integer, got ${maxRecordedRequests}`);
  const routes = [
    ...settings.routes,
    ...anthropicRoutes,
    ...azureOpenAIRoutes,
    ...openAIRoutes,
    ...geminiRoutes,
    ...ollamaRoutes,
    ...cohereRoutes,
    ...bedrockRoutes,
    ...bedrockInvokeRoutes,
    ...vertexRoutes,
  ];
  const requests: RecordedRequest[] = [];
  const events = new EventEmitter();
  let faults: Array<MockFault & { used: number }> = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://mock');
      const { body, raw: rawBody } = await readBody(req);
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname + url.search,
        headers: req.headers,
        body,
        aborted: false,
      };
      if (maxRecordedRequests > 0) {
        if (requests.length >= maxRecordedRequests) requests.shift();
        requests.push(record);
      }
      events.emit('request', record);
      res.on('close', () => {
        if (!res.writableFinished) {
          record.aborted = true;
          events.emit('aborted', record);
        }
      });
      const model =
        typeof body === 'object' && body !== null
          ? ((body as Record<string, unknown>)['model'] as string | undefined)
          : undefined;
      const fault = faults.find(
        (f) => f.used < (f.times ?? Infinity) && faultMatches(f, url.pathname, model),
      );
      if (fault !== undefined) fault.used += 1;
      switch (fault?.kind) {
        case 'status':
          res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.headers ?? {}) });
          res.end(
            JSON.stringify(
              fault.body ?? {
                error: {
                  message: `mock fault ${fault.status}`,
                  type: 'server_error',
                  param: null,
                  code: null,
                },
              },
            ),
          );
          return;
        case 'reset':
          req.socket.destroy();
          return;
        case 'hang':
          return;
        case 'delay':
          await new Promise((resolve) => setTimeout(resolve, fault.ms));
          break;
        default:
          break;
      }
      const route = routes.find((r) => r.method === req.method && r.path.test(url.pathname));
      if (route === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: {
              message: `No mock route for ${req.method} ${url.pathname}`,
              type: 'invalid_request_error',
              param: null,
              code: 'not_found',
            },
          }),
        );
        return;
      }
      const streamFault =
        fault?.kind === 'cut-stream' ||
        fault?.kind === 'stream-error' ||
        fault?.kind === 'stall-stream' ||
        fault?.kind === 'slow-stream'
          ? fault
          : undefined;
      await route.handle({ req, res, url, body, rawBody, streamFault, options: settings });
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: String(error), type: 'server_error', param: null, code: null } }),
      );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    events,
    fault(fault) {
      faults.push({ ...fault, used: 0 });
    },
    reset() {
      faults = [];
      requests.length = 0;
    },
    async nextAbort() {
      const [record] = (await once(events, 'aborted')) as [RecordedRequest];
      return record;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
