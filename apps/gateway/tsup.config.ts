import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';

export default defineConfig(
  libraryBuild({ entry: ['src/cli.ts', 'src/index.ts'], format: ['esm'], dts: false, banner: { js: '#!/usr/bin/env node' } }),
);
