import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { SignatureV4 } from '@smithy/signature-v4';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SHA-256 (an HMAC when given a secret) over node:crypto, in the shape the Smithy signer takes. */
class NodeSha256 {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#create();
  }

  update(data: SourceData): void {
    this.#hash.update(toBytes(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }

  reset(): void {
    this.#hash = this.#create();
  }

  #create(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(this.#secret));
  }
}

/** Static AWS credentials (temporary ones carry a session token). */
export interface BedrockCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Signs Bedrock Runtime requests with AWS Signature Version 4 (service `bedrock`), with
 * static credentials or a provider the signer asks on every request (the credential chain,
 * which caches and refreshes them).
 */
export class BedrockRequestSigner {
  readonly #credentials: BedrockCredentials | (() => Promise<BedrockCredentials>);
  readonly #region: string;
  // the signer caches derived signing keys per day and region, so one per adapter; loaded with
  // the first request: a gateway without Bedrock never loads @smithy (~9 MB RSS)
  #signer: Promise<SignatureV4> | undefined;

  constructor(credentials: BedrockCredentials | (() => Promise<BedrockCredentials>), region: string) {
    this.#credentials = credentials;
    this.#region = region;
  }

  #load(): Promise<SignatureV4> {
    this.#signer ??= import('@smithy/signature-v4').then(
      ({ SignatureV4: Signer }) =>
        new Signer({
          service: 'bedrock',
          region: this.#region,
          credentials: this.#credentials,
          sha256: NodeSha256,
          uriEscapePath: true,
        }),
    );
    return this.#signer;
  }

  /**
   * The headers to send: the given ones plus `authorization`, `x-amz-date`,
   * `x-amz-content-sha256` and, with temporary credentials, `x-amz-security-token`. Every
   * given header is signed, so `headers` must be exactly what goes on the wire.
   * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
   */
  async sign(url: URL, headers: Record<string, string>, body: string): Promise<Record<string, string>> {
    const signer = await this.#load();
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: {},
      headers: { ...headers, host: url.host },
      body,
    });
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      // undici derives the same Host from the URL; sending it twice would be a bad request
      if (name.toLowerCase() !== 'host') result[name] = value;
    }
    return result;
  }
}
