import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';

export default defineConfig(
  // splitting: the CLI imports each command when it runs, so `keys list` never loads the gateway;
  // heap-tuning on its own for the bench's gateway process, which needs only that of the app
  libraryBuild({
    entry: ['src/cli.ts', 'src/index.ts', 'src/runtime/heap-tuning.ts'],
    format: ['esm'],
    dts: false,
    splitting: true,
    banner: { js: '#!/usr/bin/env node' },
  }),
);
