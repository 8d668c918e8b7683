import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { pipeline, Readable } from 'node:stream';
import {
  assertAllowedTarget,
  createGuardedAgent,
  isSwitchyardError,
  SwitchyardError,
  transportError,
  withTimeout,
  type Gateway,
  type RequestContext,
  type TargetPolicy,
} from '@switchyard/proxy-core';
import {
  builtinMeterHosts,
  chatUsageFromTokenUsage,
  type MeteredUsage,
  type MeterExchange,
  type MeterRegistry,
  type PricingRegistry,
  setProviderLabel,
  type SwitchyardTracing,
} from '@switchyard/proxy-logging';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { requestContextFromHttp } from '../http/request-context-from-http';
import type { RequestTimeLimit } from '../http/request-signal';
import { APP_DEFAULTS } from '../app-options';
import { heldSecretEquals } from '../keys/key-secret';
import { BodyCapture } from './body-capture';
import {
  BUILTIN_PROXY_ROUTES,
  PROXY_DEFAULTS,
  validateProxyOptions,
  type ProxyOptions,
} from './proxy-options';
import { injectedKeys } from './injected-keys';
import { proxyMeterRegistry } from './proxy-options-problems';
import {
  decodableAcceptEncoding,
  decodeWhole,
  EchoedKeyMask,
  type EchoedSecret,
  maskableCoding,
  maskSecret,
  UndecodableBody,
} from './echoed-key-mask';
import {
  clientResponseHeaders,
  injectsInto,
  upstreamRequestHeaders,
  withoutGatewaySecretsInQuery,
} from './proxy-headers';
import { proxyProviderLabels } from './proxy-provider-label';
import { exactHostMatcher } from './exact-hosts';
import { parseTarget, resolveProxyTarget, withinRouteBase, type ProxyTarget } from './resolve-proxy-target';

/** What the proxy routes need from the app. */
export interface ProxyRoutesOptions {
  gateway: Gateway;
  pricing: PricingRegistry;
  proxy: ProxyOptions;
  /** Largest forwarded request body in bytes; larger bodies get 413. @default 10485760 (the app's `bodyLimitBytes`) */
  bodyLimitBytes?: number;
  /** Spans of pass-through exchanges (the same instance the engine's spans come from). */
  tracing?: SwitchyardTracing;
  /**
   * The master key (`admin.masterKey`): a client that puts it in a key header (`Authorization`,
   * `x-api-key`, ...) never has it sent upstream, as a `sk-sy-` key never is.
   */
  masterKey?: string;
}

// media types are case-insensitive (RFC 9110 §8.3.1); `+xml` takes in SSML, the body of Azure
// Speech's text to speech, which is metered by its characters
const TEXTUAL =
  /^(text\/|application\/(json|x-ndjson|graphql|xml|problem\+json|vnd\.amazon\.eventstream|x-amz-json)|application\/[a-z0-9.+-]*\+(json|xml))/i;
// a request body is also kept when it is a form: an audio upload names its model in a field
// next to the file (head and tail within the capture bound, where such fields are)
const CAPTURED_REQUEST = /^(multipart\/form-data|application\/x-www-form-urlencoded)/i;

/** The origin of a request target in absolute form, as the router strips it. */
const ABSOLUTE_ORIGIN = /^https?:\/\/[^/?#]*/i;

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function hasBody(raw: IncomingMessage): boolean {
  return (
    raw.headers['transfer-encoding'] !== undefined ||
    (raw.headers['content-length'] !== undefined && raw.headers['content-length'] !== '0')
  );
}

/** The upstream's answer to a forwarded request, and the bounded copies of both bodies. */
interface Answer {
  upstream: Dispatcher.ResponseData;
  capture: BodyCapture;
  requestCapture: BodyCapture;
  /** The body the client gets: the upstream's, or an error answer decoded and masked whole. */
  source: Readable;
  /** Masks the gateway's provider key where an error answer quotes it, as the body streams through. */
  mask: EchoedKeyMask | undefined;
  /** The coding of the bytes the client gets (and the capture keeps). */
  coding: string | undefined;
  /** The reply's headers before the upstream's were set: the gateway's own (request id, CORS, limits). */
  own: Record<string, ReplyHeader>;
  /** Stops the upstream clock (`context.upstreamMs`) at the answer's last read; the first call counts. */
  stopUpstreamClock: () => void;
}

type ReplyHeader = ReturnType<FastifyReply['getHeaders']>[string];

/** Headers that describe the bytes the upstream sent, false once the gateway decoded them. */
const ENCODED_BODY_HEADERS = [
  'content-encoding',
  'content-length',
  'content-range',
  'etag',
  'content-md5',
  'digest',
];

/** Whether an answer gets {@link maskedErrorBody}: checked first, so a success costs no extra turn. */
function masksErrorBody(
  secret: EchoedSecret | undefined,
  method: string,
  upstream: Dispatcher.ResponseData,
): secret is EchoedSecret {
  return (
    secret !== undefined &&
    upstream.statusCode >= 400 &&
    method !== 'HEAD' &&
    firstHeader(upstream.headers['content-length']) !== '0'
  );
}

/**
 * The body the client gets of an answer to a request the gateway put its provider key in
 * (`secret`): an error answer may quote the key it was sent, and the key is the gateway's, not
 * the client's, so it is masked. An identity-coded one streams through the mask; an encoded one
 * (the request asked only for codings the gateway decodes) is read and decoded whole, within
 * 1 MiB, masked and sent decoded, and one that cannot be (another coding, several, too large,
 * not in its coding) is refused before anything is sent. Not on a success (a stream of events
 * would wait on the bytes the mask holds back), nor on an answer without a body (to HEAD, or
 * of length 0: whatever coding it names).
 */
async function maskedErrorBody(
  secret: EchoedSecret,
  upstream: Dispatcher.ResponseData,
  provider: string,
  signal: AbortSignal,
): Promise<{ mask: EchoedKeyMask; decoded?: never } | { decoded: Buffer; mask?: never }> {
  const header = upstream.headers['content-encoding'];
  const coding = maskableCoding(header);
  if (coding === 'identity') return { mask: new EchoedKeyMask(secret) };
  const refuse = (why: string, cause?: unknown): SwitchyardError =>
    new SwitchyardError(
      'upstream_error',
      `Provider "${provider}" answered with status ${upstream.statusCode} in a body the gateway cannot check for its key (${why}); the answer was not forwarded.`,
      { provider, upstreamStatus: upstream.statusCode, ...(cause === undefined ? {} : { cause }) },
    );
  if (coding === undefined) {
    upstream.body.once('error', () => undefined).destroy();
    const named = (Array.isArray(header) ? header.join(', ') : (header ?? '')).slice(0, 64);
    throw refuse(`content coding "${named}"`);
  }
  try {
    return { decoded: maskSecret(await decodeWhole(upstream.body, coding), secret) };
  } catch (cause) {
    if (cause instanceof UndecodableBody) throw refuse(cause.message, cause);
    throw transportError(provider, cause, signal);
  }
}

/**
 * How long the app's close waits for the exchanges still being metered (decoding a bounded
 * capture, reading usage, reporting): the server has closed by then, every response has ended.
 */
const METERING_AT_CLOSE_MS = 1_000;

/** Reports `context` through the gateway the first time it is called, never again. */
function endOnce(gateway: Gateway, context: RequestContext): () => void {
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    gateway.report(context);
  };
}

/**
 * The gateway's own reason for cancelling an exchange (its time limit, the drain deadline), if it
 * did: a response it cut after the upstream was done has no failed transfer that would say so.
 */
function cutBy(context: RequestContext): SwitchyardError | undefined {
  const reason: unknown = context.signal.aborted ? context.signal.reason : undefined;
  return isSwitchyardError(reason) ? reason : undefined;
}

/** A bug before the upstream call (a meter registry or tracer that throws): told apart from a failed call. */
function notForwarded(cause: unknown): SwitchyardError {
  return new SwitchyardError(
    'internal_error',
    'The gateway failed before forwarding the request; nothing was sent upstream.',
    { cause },
  );
}

/**
 * Sets the client's status and headers from the upstream's answer. A status the HTTP layer
 * refuses (an upstream answering 999) is a bad answer: its body is dropped and the client
 * gets a 502 instead, since nothing was sent yet.
 */
function answerHeaders(reply: FastifyReply, upstream: Dispatcher.ResponseData, provider: string): void {
  try {
    // the status first: when it throws, no upstream header was set on the reply either
    void reply.code(upstream.statusCode).headers(clientResponseHeaders(upstream.headers, reply.getHeaders()));
  } catch (cause) {
    // destroying an unread undici body makes it emit an abort error: nobody is left to hear it
    upstream.body.once('error', () => undefined).destroy();
    throw new SwitchyardError(
      'upstream_error',
      `Provider "${provider}" answered with status ${upstream.statusCode}, which cannot be forwarded.`,
      {
        provider,
        cause,
        upstreamStatus: upstream.statusCode,
      },
    );
  }
}

/**
 * Puts back the reply's headers as the gateway had set them before the upstream's answer
 * (`own`): an error answered instead of that answer carries none of the upstream's (its
 * `Content-Encoding` on a plain JSON body, its cookies, its validators). Fastify copied them
 * onto the raw response already when it began to send the body.
 */
function toOwnHeaders(reply: FastifyReply, own: Record<string, ReplyHeader>): void {
  for (const name of new Set([...Object.keys(reply.getHeaders()), ...reply.raw.getHeaderNames()])) {
    if (Object.hasOwn(own, name)) continue;
    void reply.removeHeader(name);
    reply.raw.removeHeader(name);
  }
  for (const [name, value] of Object.entries(own)) if (value !== undefined) void reply.header(name, value);
}

/**
 * Metering or pricing threw after the client had its answer: the exchange is still logged,
 * without a cost, the failure as its error under the status the client saw.
 */
function meteringFailed(request: FastifyRequest, context: RequestContext, url: URL, thrown: unknown): void {
  request.log.warn(
    { err: thrown, provider: url.hostname },
    'metering or pricing a proxy exchange failed; it is logged without a cost',
  );
  context.costUsd = null;
  context.error ??= new SwitchyardError(
    'internal_error',
    'Metering or pricing the exchange failed after the client got its answer.',
    {
      cause: thrown,
      ...(context.statusCode === undefined ? {} : { status: context.statusCode }),
    },
  );
}

/**
 * The universal proxy: `ALL /proxy/*` forwards any request to an allow-listed target and
 * streams both bodies through unchanged, while a bounded copy of each is metered after the
 * client got its last byte. Registered in its own scope: bodies are never parsed here.
 */
export const proxyRoutes: FastifyPluginAsync<ProxyRoutesOptions> = async (app, options) => {
  validateProxyOptions(options.proxy);
  await checkedProxyRoutes(app, options);
};

/** {@link proxyRoutes} with proxy options already validated (`switchyardRoutes` checks them before anything opens). */
export const checkedProxyRoutes: FastifyPluginAsync<ProxyRoutesOptions> = async (
  app,
  { gateway, pricing, proxy, bodyLimitBytes, tracing, masterKey },
) => {
  const meters: MeterRegistry = proxyMeterRegistry(proxy);
  const routes: Record<string, string> = { ...BUILTIN_PROXY_ROUTES, ...proxy.routes };
  const routeBases = Object.values(proxy.routes ?? {}).map((base) => new URL(base));
  // what a header target may name: the providers' public hosts and `allowHosts`; a configured
  // route's host only under the route's base (see withinRouteBase)
  const headerPolicy: TargetPolicy = {
    allowHosts: [
      ...Object.values(BUILTIN_PROXY_ROUTES).map((base) => new URL(base).hostname),
      ...builtinMeterHosts(),
      ...(proxy.allowHosts ?? []),
    ],
    allowPrivateNetworks: proxy.allowPrivateNetworks ?? false,
    allowAddresses: proxy.allowAddresses ?? [],
  };
  const policy: TargetPolicy = {
    ...headerPolicy,
    allowHosts: [...routeBases.map((base) => base.hostname), ...headerPolicy.allowHosts],
  };
  // a client picks what a header target's name resolves to, and a wildcard entry (`*`, an
  // operator's `*.*`, a meter's `*.es.io`, whose ip.es.io answers `10.0.0.5.ip.es.io` with
  // 10.0.0.5) matches names anyone may point anywhere: allowAddresses reaches a header target
  // only through an entry naming its host exactly, else the address a route needs would be open
  // on its every port and path. A host only wildcards match is checked, and connected to, without it
  const exactHosts = headerPolicy.allowHosts.filter((pattern) => !pattern.includes('*'));
  const wildcardPolicy: TargetPolicy = { ...headerPolicy, allowAddresses: [] };
  const providerLabel = proxyProviderLabels(policy.allowHosts);
  const { keys, problems } = injectedKeys(proxy.providerKeys ?? {}, meters, proxy.routes ?? {});
  if (problems.length > 0)
    throw new SwitchyardError('invalid_options', `Invalid proxy options:\n${problems.join('\n')}`);
  const agentOptions = proxy.resolve === undefined ? {} : { resolve: proxy.resolve };
  const agent = createGuardedAgent(policy, agentOptions);
  const wildcardAgent =
    exactHosts.length < headerPolicy.allowHosts.length
      ? createGuardedAgent(wildcardPolicy, agentOptions)
      : undefined;
  app.addHook('onClose', async () => {
    await Promise.all([agent.close(), wildcardAgent?.close()]);
  });
  // one lookup a request, not a comparison with each of the providers' dozens of hosts
  const namedExactly = exactHostMatcher(exactHosts);
  /**
   * The policy a target is checked by, and the agent that connects to it under the same policy.
   * `parsed` is the target's URL, parsed once for the request (undefined when it is none).
   */
  const scopeOf = (
    target: ProxyTarget,
    parsed: URL | undefined,
  ): { allowed: TargetPolicy; dispatcher: Dispatcher } => {
    if (
      target.prefix !== undefined ||
      (routeBases.length > 0 && parsed !== undefined && withinRouteBase(parsed, routeBases))
    )
      return { allowed: policy, dispatcher: agent };
    // without a wildcard entry, a host no entry names is refused by the check anyway
    if (wildcardAgent === undefined) return { allowed: headerPolicy, dispatcher: agent };
    return namedExactly(parsed?.hostname ?? '')
      ? { allowed: headerPolicy, dispatcher: agent }
      : { allowed: wildcardPolicy, dispatcher: wildcardAgent };
  };
  // an exchange is metered after its response closed (a compressed body is decoded on libuv's
  // pool first), so the server's close does not wait for it: this scope's onClose runs before
  // the parent's, which closes the request log and flushes spend, and waits for it there
  const metering = new Set<Promise<void>>();
  app.addHook('onClose', async () => {
    if (metering.size === 0) return;
    const left = await withTimeout(Promise.allSettled(metering), METERING_AT_CLOSE_MS, 'metering').then(
      () => false,
      () => true,
    );
    if (left)
      app.log.warn(
        { pending: metering.size, waitedMs: METERING_AT_CLOSE_MS },
        'proxied exchanges were still being metered at close; their rows and charges are lost',
      );
  });
  const allowTargetHeader = proxy.allowTargetHeader ?? PROXY_DEFAULTS.allowTargetHeader;
  const maxCapture = proxy.maxCaptureBytes ?? PROXY_DEFAULTS.maxCaptureBytes;
  const headersTimeout = proxy.headersTimeoutMs ?? PROXY_DEFAULTS.headersTimeoutMs;
  const bodyIdleTimeout = proxy.bodyIdleTimeoutMs ?? PROXY_DEFAULTS.bodyIdleTimeoutMs;
  // the overall bound: an upstream that keeps sending, however slowly, never trips the idle timeout
  const requestTimeout = proxy.requestTimeoutMs ?? PROXY_DEFAULTS.requestTimeoutMs;
  const timeoutMessage = `The proxied exchange did not finish within ${requestTimeout} ms.`;
  const timeLimit: RequestTimeLimit = {
    ms: requestTimeout,
    reason: () => new SwitchyardError('request_timeout', timeoutMessage),
  };
  const bodyLimit = bodyLimitBytes ?? APP_DEFAULTS.bodyLimitBytes;
  // the master key carries no prefix to tell it by: compared in constant time, as auth does
  const masterHolder = {};
  const isGatewaySecret =
    masterKey === undefined
      ? undefined
      : (secret: string): boolean => heldSecretEquals(masterHolder, masterKey, secret);

  // bodies stream through untouched: no parser reads them, whatever their media type (so
  // fastify's bodyLimit never applies: the request capture counts the bytes instead)
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.all('/proxy/*', async (request: FastifyRequest, reply: FastifyReply) => {
    // a TRACE answer echoes the request it got, the key the gateway injected included, in a
    // success body (only error bodies are masked)
    const echoing = echoingMethod(request);
    if (echoing !== undefined) throw new SwitchyardError('unsupported_feature', echoing);
    const routeUrl = request.routeOptions.url ?? '/proxy/*';
    // a request target in absolute form (`GET http://gateway/proxy/...`, RFC 9112 §3.2.2) is
    // routed by its path: its origin is the gateway's, not a part of the path
    const path = request.url.startsWith('/') ? request.url : request.url.replace(ABSOLUTE_ORIGIN, '');
    const rest = path.slice(routeUrl.length - 2);
    const target = resolveProxyTarget(
      rest,
      firstHeader(request.headers['x-switchyard-target']),
      routes,
      allowTargetHeader,
    );
    const { allowed, dispatcher } = scopeOf(target, parseTarget(target.url));
    // a gateway secret a client put in the query goes no further than one in a header
    const url = withoutGatewaySecretsInQuery(assertAllowedTarget(target.url, allowed), isGatewaySecret);
    if (Number(request.headers['content-length'] ?? 0) > bodyLimit) {
      // the connection closes after the refusal: Node would otherwise read the whole body it
      // announced, to keep the connection, for as long as the request timeout lets it
      void reply.header('connection', 'close');
      throw new SwitchyardError('request_too_large', `The request body exceeds ${bodyLimit} bytes.`);
    }
    // a target refused above is reported as a refusal by the HTTP layer; from here on, by this
    // route, exactly once whatever throws: that report's onRequestEnd writes the log row and
    // gives the key its lease back, and nothing else does once the context exists
    // its signal cancels the upstream call when the client leaves, at shutdown, or at the time limit
    const context = requestContextFromHttp(request, reply, 'proxy', timeLimit);
    const end = endOnce(gateway, context);
    let answer: Answer | undefined;
    let closed = false;
    // a failure before the upstream answered is ended by the catch below; an answered exchange
    // is metered and ended once the client got (or dropped) its last byte
    const meterAndEnd = (): void => {
      if (answer === undefined) return;
      const answered = answer;
      const metered: Promise<void> = meterInto(context, request, reply, url, answered)
        .catch((thrown: unknown) => meteringFailed(request, context, url, thrown))
        .finally(end)
        .finally(() => metering.delete(metered));
      metering.add(metered);
    };
    reply.raw.once('close', () => {
      closed = true;
      meterAndEnd();
    });
    try {
      answer = await forward(request, reply, context, url, dispatcher);
    } catch (thrown) {
      const error = isSwitchyardError(thrown) ? thrown : notForwarded(thrown);
      context.error = error;
      context.statusCode = error.status;
      end();
      throw error;
    }
    // the client may have gone away in the turn the answer came in
    if (closed) meterAndEnd();
    const provider = context.provider ?? url.hostname;
    const { source, mask, capture, own } = answer;
    const piped = (error: NodeJS.ErrnoException | null | undefined): void => {
      if (error !== null && error !== undefined)
        context.error ??= transportError(provider, error, context.signal);
    };
    // before the pipeline's own listener: an upstream that fails before its first body byte
    // (nothing sent yet) is answered by the error handler, with the gateway's error rather than
    // undici's (a 500) and without the upstream's headers; the capture is what fastify sends
    source.once('error', (error: Error) => {
      const failure = transportError(provider, error, context.signal);
      context.error ??= failure;
      if (reply.raw.headersSent) return;
      context.statusCode = failure.status;
      toOwnHeaders(reply, own);
      capture.destroy(failure);
    });
    // pipeline, not pipe: an upstream that fails mid-body (idle timeout, reset) cuts the reply instead of leaving it open
    return reply.send(
      mask === undefined ? pipeline(source, capture, piped) : pipeline(source, mask, capture, piped),
    );
  });

  /**
   * Sends the request upstream and sets the reply's status and headers from the answer; the
   * answer's body is left to pipe. Throws a `SwitchyardError` for a failed call or an answer
   * that cannot be forwarded, anything else for a bug before the call.
   */
  async function forward(
    request: FastifyRequest,
    reply: FastifyReply,
    context: RequestContext,
    url: URL,
    dispatcher: Dispatcher,
  ): Promise<Answer> {
    const meter = meters.detect(url);
    const provider = meter?.name ?? url.hostname;
    context.provider = provider;
    context.providerType = meter?.name ?? 'http';
    // the host is the client's pick within the allow-list: the metrics label it by the entry
    if (meter === undefined) setProviderLabel(context, providerLabel(url));
    const key = meter === undefined ? undefined : keys.get(meter.name);
    const injected = key !== undefined && injectsInto(key, url) ? key : undefined;
    const headers = upstreamRequestHeaders(
      request.headers,
      url,
      request.switchyardUpstreamHeaders,
      injected,
      isGatewaySecret,
    );
    // the forms an answer may quote the key in, found once for the key at start-up
    const secret = injected?.echoed;
    // whatever coding the answer comes in, the gateway can read the usage in it (a client asking
    // for a coding the gateway cannot decode, zstd on Node 20, went unmetered: no cost, no budget
    // charged) and look for its key in an error answer
    if (meter !== undefined || secret !== undefined)
      headers['accept-encoding'] = decodableAcceptEncoding(headers['accept-encoding']);
    tracing?.startExchange(context, url, headers);
    const requestType = firstHeader(request.headers['content-type']) ?? '';
    // told the body's coding: a compressed body past the capture size is decoded as it streams
    const requestCapture = new BodyCapture(
      TEXTUAL.test(requestType) || CAPTURED_REQUEST.test(requestType)
        ? PROXY_DEFAULTS.maxRequestCaptureBytes
        : 0,
      bodyLimit,
      { contentEncoding: firstHeader(request.headers['content-encoding']) },
    );
    const body = hasBody(request.raw) ? request.raw.pipe(requestCapture) : undefined;
    // an upstream may answer (a 401, a 413) before it read the whole body, and one past the limit
    // stops being forwarded: the rest is read and dropped, as Node does for a handler that reads
    // none, or it holds the connection and the client's next request on it waits for ever
    if (body !== undefined)
      requestCapture.once('close', () => {
        if (request.raw.readableEnded) return;
        request.raw.unpipe(requestCapture);
        request.raw.resume();
        // past the limit, the rest is not read for long: the connection closes after the 413
        if (requestCapture.totalBytes > bodyLimit && !reply.sent) void reply.header('connection', 'close');
      });

    const started = performance.now();
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await undiciRequest(url, {
        method: request.method,
        headers,
        body: body ?? null,
        dispatcher,
        signal: context.signal,
        headersTimeout: headersTimeout,
        bodyTimeout: bodyIdleTimeout,
      });
    } catch (cause) {
      throw transportError(provider, cause, context.signal);
    }
    context.upstreamMs = performance.now() - started;
    context.statusCode = upstream.statusCode;
    let masked: Awaited<ReturnType<typeof maskedErrorBody>> | undefined;
    if (masksErrorBody(secret, request.method, upstream)) {
      try {
        masked = await maskedErrorBody(secret, upstream, provider, context.signal);
      } finally {
        // a body read whole before the client gets it is the upstream's time, not the gateway's
        context.upstreamMs = performance.now() - started;
      }
    }
    // the upstream's time runs to the answer's last read, as a /v1 stream's does: a proxied stream
    // (or a long body) still arriving is the upstream's time, not the gateway's overhead
    let clockStopped = false;
    const stopUpstreamClock = (): void => {
      if (clockStopped) return;
      clockStopped = true;
      context.upstreamMs = performance.now() - started;
    };
    // ended, failed, or destroyed with the reply: closed in every case
    if (upstream.body.closed) stopUpstreamClock();
    else upstream.body.once('close', stopUpstreamClock);
    const own = reply.getHeaders();
    answerHeaders(reply, upstream, provider);
    // every Content-Encoding line, as the mask reads them (the capture decodes one coding)
    const header = upstream.headers['content-encoding'];
    let coding =
      header === undefined
        ? undefined
        : (maskableCoding(header) ?? (Array.isArray(header) ? header.join(', ') : header));
    let source: Readable = upstream.body;
    if (upstream.statusCode === 304) {
      // a 304 has no body, whatever Content-Length it states (RFC 9110 §8.6): undici reads a
      // stated length as a body cut short and fails it, after the client's headers were set
      upstream.body.once('error', () => undefined).resume();
      source = Readable.from([]);
    } else if (masked?.decoded !== undefined) {
      // the client gets the decoded, masked bytes: neither their coding, length nor digest is the upstream's
      for (const name of ENCODED_BODY_HEADERS) void reply.removeHeader(name);
      void reply.header('content-length', masked.decoded.length);
      coding = undefined;
      source = Readable.from([masked.decoded]);
    }
    const contentType = firstHeader(upstream.headers['content-type']) ?? '';
    context.stream = contentType.startsWith('text/event-stream');
    // a time to first token only for a stream (its headers come as its events start), as on /v1:
    // a whole answer, an embedding or a 429 has none
    if (context.stream) context.firstTokenMs = performance.now() - context.startMark;
    return {
      upstream,
      capture: new BodyCapture(TEXTUAL.test(contentType) ? maxCapture : 0, Number.POSITIVE_INFINITY, {
        contentEncoding: coding,
      }),
      requestCapture,
      source,
      mask: masked?.mask,
      coding,
      own,
      stopUpstreamClock,
    };
  }

  /** Meters the exchange into the context once the response closed, and prices it. */
  async function meterInto(
    context: RequestContext,
    request: FastifyRequest,
    reply: FastifyReply,
    url: URL,
    answer: Answer,
  ): Promise<void> {
    // the reply closed: a body the client left before its end is read no further
    answer.stopUpstreamClock();
    const usage = await settle(request, url, answer);
    // unfinished: cut by the gateway (the time limit, shutdown: its reason), else the client left
    if (!reply.raw.writableFinished)
      context.error ??=
        cutBy(context) ??
        new SwitchyardError(
          'client_closed_request',
          'The client went away before the response was complete.',
        );
    if (usage === undefined) context.costUsd = null;
    else {
      context.operation = usage.operation ?? '';
      if (usage.model !== undefined) {
        context.upstreamModel = usage.model;
        context.requestedModel = usage.model;
      }
      if (usage.tokens !== undefined) {
        context.usage = chatUsageFromTokenUsage(usage.tokens);
        // the tier the answer was served on, as the engine keeps it for a /v1 answer (it prices the tokens)
        if (usage.tokens.serviceTier !== undefined) context.serviceTier = usage.tokens.serviceTier;
      }
      if (Object.keys(usage.units).length > 0) context.meteredUnits = usage.units;
      context.costUsd = pricing.meteredCostUsd(usage);
    }
    // a refusal (a 429, a 500, a 400) is no call the provider bills: $0, where an unknown price
    // would charge the key's reservation for each one a client retries. Not a timeout answered
    // by something in front of the provider (408, 504, Cloudflare's 524), after which the
    // provider may have worked and billed
    if (context.costUsd === null && unbilledStatus(answer.upstream.statusCode)) context.costUsd = 0;
  }

  async function settle(
    request: FastifyRequest,
    url: URL,
    { upstream, capture, requestCapture, coding }: Answer,
  ): Promise<MeteredUsage | undefined> {
    const exchange: MeterExchange = {
      method: request.method,
      url,
      status: upstream.statusCode,
      requestHeaders: request.headers,
      responseHeaders: upstream.headers,
      responseBytes: capture.totalBytes,
    };
    // a compressed body past the capture size: text() waits for its streamed decode to end
    // (given up with the capture if the exchange was aborted, so this never waits for ever).
    // Whether a capture was cut is read after its text: one that fit compressed is cut as it decodes
    const requestText = await requestCapture.text(firstHeader(request.headers['content-encoding']));
    if (requestText !== undefined && requestText !== '') {
      exchange.requestText = requestText;
      if (requestCapture.truncated) exchange.requestTruncated = true;
    }
    const responseText = await capture.text(coding);
    exchange.responseTruncated = capture.truncated;
    if (responseText !== undefined && responseText !== '') exchange.responseText = responseText;
    try {
      return meters.meter(exchange);
    } catch (error) {
      request.log.warn(
        { err: error, provider: url.hostname },
        'a proxy meter failed; the exchange is logged without usage',
      );
      return undefined;
    }
  }
};

/** Methods whose answer echoes the request: the key the gateway injected included, in a success body. */
const ECHOING_METHODS = new Set(['TRACE', 'TRACK']);
/**
 * Headers by which some servers (Express's method-override, ASP.NET, Google's APIs) handle a
 * POST or GET as another method.
 */
const METHOD_OVERRIDES = ['x-http-method-override', 'x-http-method', 'x-method-override'];

/**
 * The query parameter by which some frameworks (Express's method-override, Laravel, Symfony)
 * handle a POST or GET as another method. Not a `_method` field of a form body (Rails reads it
 * there): bodies stream through unread.
 */
const METHOD_PARAMETER = '_method';

/**
 * Why a request is not forwarded: it is, or asks by a method override header or a `_method`
 * query parameter to be handled as, a method whose answer echoes it (TRACE, TRACK). Undefined
 * when it is not.
 */
function echoingMethod(request: FastifyRequest): string | undefined {
  if (ECHOING_METHODS.has(request.method)) return `The universal proxy does not forward ${request.method}.`;
  for (const name of METHOD_OVERRIDES) {
    const value = request.headers[name];
    if (value === undefined) continue;
    // repeated, Node joins the lines with `, `: any one of them may be the one the upstream reads
    for (const method of (Array.isArray(value) ? value.join(',') : value).split(','))
      if (ECHOING_METHODS.has(method.trim().toUpperCase()))
        return `The universal proxy does not forward ${method.trim().toUpperCase()}, asked for by ${name}.`;
  }
  const query = request.url.indexOf('?');
  if (query === -1) return undefined;
  // as the target's URL reads it: up to a fragment, without the tabs and line breaks its parser drops
  const search = (request.url.slice(query + 1).split('#', 1)[0] ?? '').replace(/[\t\n\r]/g, '');
  // the name decodes to `_method` only from these letters or from escapes: most queries are not read further
  if (!/method|%/i.test(search)) return undefined;
  // decoded as a server decodes it (escapes, `+` a space); every occurrence, since a server may read any of them
  for (const [name, value] of new URLSearchParams(search)) {
    if (name.toLowerCase() !== METHOD_PARAMETER) continue;
    const method = value.trim().toUpperCase();
    if (ECHOING_METHODS.has(method))
      return `The universal proxy does not forward ${method}, asked for by the ${METHOD_PARAMETER} query parameter.`;
  }
  return undefined;
}

/** Whether an upstream status is a refusal no provider bills: outside 2xx, and not a timeout. */
function unbilledStatus(status: number): boolean {
  if (status >= 200 && status < 300) return false;
  return status !== 408 && status !== 504 && status !== 524;
}
