import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';
import { buildUi } from './scripts/build-ui';

// shims: the CJS build finds the UI assets next to itself through import.meta.url
export default defineConfig(
  libraryBuild({
    shims: true,
    onSuccess: async () => {
      await buildUi('dist/ui');
    },
  }),
);
