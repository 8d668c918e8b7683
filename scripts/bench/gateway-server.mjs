// The gateway as users run it: the built @switchyard/proxy-api in front of the mock upstream.
import { createApp } from '@switchyard/proxy-api';

const app = createApp({
  gateway: {
    providers: [{ name: 'upstream', type: 'openai', baseUrl: `${process.env.BENCH_UPSTREAM}/v1`, apiKey: 'sk-bench' }],
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'upstream', model: 'gpt-4o-mini' }] }],
  },
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.send?.({ url: `http://127.0.0.1:${app.server.address().port}` });
process.on('disconnect', () => void app.close().then(() => process.exit(0)));
