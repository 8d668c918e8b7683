import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// vitest's global setup: the run fails when a test wrote a file into the gateway's folder (the
// repository), where .gitignore hides it. The embedded defaults put the request log in
// ./switchyard.db of the working directory, which is this folder under vitest: a test that starts
// the gateway runs it in a temp dir of its own, or with the request log off.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// the build's output, the install, and vitest's own cache
const SKIPPED = new Set(['node_modules', 'dist', '.vite', '.vitest']);

/** Every file under `dir` but the skipped folders, with its size and modification time. */
function files(dir: string, found = new Map<string, string>()): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED.has(entry.name)) files(path, found);
    } else {
      const stat = statSync(path, { throwIfNoEntry: false });
      if (stat !== undefined) found.set(relative(ROOT, path), `${stat.size}:${stat.mtimeMs}`);
    }
  }
  return found;
}

export default function setup(): () => void {
  const before = files(ROOT);
  return () => {
    const written = [...files(ROOT)]
      .filter(([path, state]) => before.get(path) !== state)
      .map(([path]) => path);
    if (written.length > 0) {
      // vitest only logs an error thrown here ("error during close") and exits with process.exitCode
      process.exitCode = 1;
      throw new Error(
        `tests wrote into apps/gateway (use a temp dir, and remove it): ${written.sort().join(', ')}`,
      );
    }
  };
}
