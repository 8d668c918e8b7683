import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared';

// two entries: the runtime-neutral one and the undici (Node-only) one; `node:` specifiers
// are kept for runtimes that only know built-ins by them (Deno, Workers)
export default defineConfig(
  libraryBuild({ entry: ['src/index.ts', 'src/undici.ts'], removeNodeProtocol: false }),
);
