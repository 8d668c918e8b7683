// The gateway app's programmatic surface, for tests and embedding the CLI's behaviour.
export { startGateway } from './start-gateway';
export type { RunningGateway, StartOptions } from './start-gateway';
export { ConfigError, loadConfigFile, validateConfig } from './config/load-config';
export { withEnvOverrides } from './config/env-overrides';
export { withServerEnv } from './config/server-env';
export { defaultConfig } from './config/default-config';
export { interpolateEnv } from './config/interpolate-env';
export { HEAP_GROWING_PERCENT, heapTuningFlags, tuneHeap } from './runtime/heap-tuning';
export { ConfigFileSchema } from './config/config-schema';
export type { ConfigFile } from './config/config-schema';
