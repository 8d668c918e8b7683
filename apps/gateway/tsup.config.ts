import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';

export default defineConfig(
  // splitting: the CLI imports each command when it runs, so `keys list` never loads the gateway
  libraryBuild({ entry: ['src/cli.ts', 'src/index.ts'], format: ['esm'], dts: false, splitting: true, banner: { js: '#!/usr/bin/env node' } }),
);
