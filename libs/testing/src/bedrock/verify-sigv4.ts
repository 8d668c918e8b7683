import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: SourceData): Uint8Array | string =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

class Sha256 {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#create();
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
  reset(): void {
    this.#hash = this.#create();
  }
  #create(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.#secret));
  }
}

/** The AWS documentation's example credentials: what the mock Bedrock accepts. */
export const BEDROCK_TEST_CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
} as const;

/** The Bedrock API key (bearer token) the mock Bedrock accepts. */
export const BEDROCK_TEST_API_KEY = 'ABSKQmVkcm9ja0FQSUtleS1leGFtcGxlLXRlc3Qta2V5';

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** Why a request's authentication was refused, as Bedrock names it; undefined when it verifies. */
export interface SigV4Refusal {
  status: number;
  type: string;
  message: string;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Checks a request's `Authorization` header: a well-formed SigV4 header (or a bearer Bedrock
 * API key) whose signature, recomputed with the Smithy signer over the signed headers, the
 * raw path and the exact body, matches for the test credentials.
 */
export async function verifyBedrockAuth(
  req: IncomingMessage,
  url: URL,
  rawBody: Buffer,
): Promise<SigV4Refusal | undefined> {
  const authorization = header(req, 'authorization');
  if (authorization === undefined)
    return {
      status: 403,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    };
  if (authorization.startsWith('Bearer ')) {
    return authorization.slice(7) === BEDROCK_TEST_API_KEY
      ? undefined
      : {
          status: 403,
          type: 'AccessDeniedException',
          message: 'Invalid API Key format: Must start with pre-defined prefix',
        };
  }
  const match = AUTH.exec(authorization);
  if (match === null)
    return {
      status: 403,
      type: 'IncompleteSignatureException',
      message: 'Authorization header requires Credential, SignedHeaders and Signature.',
    };
  const [, accessKeyId, day, region, service, signedList, signature] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (accessKeyId !== BEDROCK_TEST_CREDENTIALS.accessKeyId) {
    return {
      status: 403,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  const amzDate = header(req, 'x-amz-date');
  const signedHeaders = signedList.split(';');
  if (
    service !== 'bedrock' ||
    amzDate === undefined ||
    !amzDate.startsWith(day) ||
    !signedHeaders.includes('host') ||
    !signedHeaders.includes('x-amz-date')
  ) {
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message: 'Credential should be scoped to a valid region and service, and sign host and x-amz-date.',
    };
  }
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = header(req, name);
    if (value === undefined)
      return { status: 403, type: 'InvalidSignatureException', message: `Signed header ${name} is missing.` };
    headers[name] = value;
  }
  // recomputed from the body received rather than trusted from the header, as AWS does
  delete headers['x-amz-content-sha256'];
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (date === null)
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message: 'X-Amz-Date must be in ISO 8601 basic format.',
    };
  const signingDate = new Date(
    Date.UTC(
      Number(date[1]),
      Number(date[2]) - 1,
      Number(date[3]),
      Number(date[4]),
      Number(date[5]),
      Number(date[6]),
    ),
  );
  const sessionToken = header(req, 'x-amz-security-token');
  const signer = new SignatureV4({
    service,
    region,
    credentials: { ...BEDROCK_TEST_CREDENTIALS, ...(sessionToken === undefined ? {} : { sessionToken }) },
    sha256: Sha256,
    uriEscapePath: true,
  });
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = value;
  const expected = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: (headers['host'] ?? '').replace(/:\d+$/, ''),
      path: url.pathname,
      query,
      headers,
      body: rawBody.toString('utf8'),
    },
    { signingDate },
  );
  const recomputed = /Signature=([0-9a-f]{64})/.exec(expected.headers['authorization'] ?? '')?.[1] ?? '';
  if (
    recomputed.length !== signature.length ||
    !timingSafeEqual(Buffer.from(recomputed), Buffer.from(signature))
  ) {
    return {
      status: 403,
      type: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    };
  }
  return undefined;
}
