export { MockAdapter, mockProvider, MockProviderOptionsSchema } from './mock-adapter';
export type { MockProviderOptions } from './mock-adapter';
