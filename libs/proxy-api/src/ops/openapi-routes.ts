import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/** Registers OpenAPI generation; must run before the routes it documents are added. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Switchyard', description: 'An OpenAI-compatible LLM gateway.', version: '1' },
      components: {
        securitySchemes: {
          clientKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'A virtual key (sk-sy-...); the master key on /admin.',
          },
          gatewayKey: {
            type: 'apiKey',
            in: 'header',
            name: 'x-switchyard-key',
            description: 'The gateway key on /proxy routes.',
          },
          apiKeyHeader: {
            type: 'apiKey',
            in: 'header',
            name: 'x-api-key',
            description: 'The same key as clientKey, sent the way the Anthropic SDK sends it.',
          },
        },
      },
      security: [{ clientKey: [] }],
    },
  });
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `GET /openapi.json` (the document generated from the route schemas) and `GET /docs`
 * (a small self-contained page listing the operations).
 */
export function openApiRoutes(app: FastifyInstance): void {
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/docs', { schema: { hide: true } }, async (_request, reply) => {
    const document = app.swagger() as {
      paths?: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
    };
    const rows = Object.entries(document.paths ?? {}).flatMap(([path, operations]) =>
      Object.entries(operations).map(
        ([method, operation]) =>
          `<tr><td><code>${escapeHtml(method.toUpperCase())}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(operation.summary ?? '')}</td></tr>`,
      ),
    );
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>Switchyard API</title><style>body{font:15px system-ui;margin:2rem}td{padding:.2rem .8rem;border-bottom:1px solid #ddd}</style></head><body><h1>Switchyard API</h1><p>The machine-readable document: <a href="openapi.json">openapi.json</a>.</p><table>${rows.join('')}</table></body></html>`;
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(html);
  });
}
