import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/index';
import { recordReports, resolveToLoopback } from './support/proxy-reports';

// Azure AI Speech text to speech through the universal proxy: the request body is SSML, sent as
// `application/ssml+xml` (https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech),
// and the answer is audio. The body was not kept for metering (only JSON, plain XML and text
// were), so every call was metered as 0 characters.

const SSML = `<speak version='1.0' xml:lang='en-US'><voice xml:lang='en-US' xml:gender='Female' name='en-US-AvaMultilingualNeural'>Hello, world &amp; everyone.</voice></speak>`;

let tts: Server;
let received: string[] = [];
beforeAll(async () => {
  tts = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push(body);
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.end(Buffer.alloc(512, 7));
    });
  });
  await new Promise<void>((resolve) => tts.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  await new Promise((resolve) => tts.close(resolve));
});
beforeEach(() => {
  received = [];
});

describe('universal proxy: Azure Speech text to speech', () => {
  it.each(['application/ssml+xml', 'Application/SSML+XML; charset=utf-8'])(
    'meters the spoken characters of a %s body',
    async (contentType) => {
      const reports = recordReports();
      const app = createApp({
        gateway: { providers: [{ name: 'mock', type: 'mock' }], plugins: [reports.plugin] },
        // a meter's wildcard host resolved to loopback: allowAddresses opens exact hosts only
        proxy: { allowPrivateNetworks: true, resolve: resolveToLoopback },
      });
      try {
        const base = await app.listen({ port: 0, host: '127.0.0.1' });
        const response = await request(`${base}/proxy/cognitiveservices/v1`, {
          method: 'POST',
          headers: {
            'x-switchyard-target': `http://eastus.tts.speech.microsoft.com:${(tts.address() as AddressInfo).port}`,
            'content-type': contentType,
            'x-microsoft-outputformat': 'audio-16khz-128kbitrate-mono-mp3',
          },
          body: SSML,
        });
        expect(response.statusCode).toBe(200);
        expect((await response.body.arrayBuffer()).byteLength).toBe(512);
        expect(received).toEqual([SSML]);
        const report = await reports.proxyReport();
        expect(report).toMatchObject({ provider: 'azure-speech', operation: 'tts' });
        // "Hello, world & everyone." with the entity as one character
        expect(report.meteredUnits).toEqual({ characters: 24 });
      } finally {
        await app.close();
      }
    },
  );
});
