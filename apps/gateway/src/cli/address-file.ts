import { readFileSync, unlinkSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { ConfigError } from '../config/config-error';

/**
 * The variable naming the address file: where `switchyard start` records the address it listens
 * on, for `switchyard healthcheck` and the admin commands on the same machine (the container
 * image sets it). Unset, no file is written or read.
 */
export const ADDRESS_FILE_VARIABLE = 'SWITCHYARD_ADDRESS_FILE';

/** What the address file holds: the gateway's URL as reached from this machine, and its process. */
interface AddressRecord {
  url: string;
  pid: number;
}

function parseRecord(text: string): AddressRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<AddressRecord>;
    if (typeof record.url !== 'string' || !URL.canParse(record.url)) return undefined;
    if (typeof record.pid !== 'number' || !Number.isInteger(record.pid) || record.pid <= 0) return undefined;
    return { url: record.url, pid: record.pid };
  } catch {
    return undefined;
  }
}

/** Whether a process of that id runs (one of another user's too). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes an address file an earlier run left (a gateway killed before it could remove it; in a
 * container restarted in place, with the same process id as this one): until this start listens,
 * the file names no gateway.
 */
export async function clearAddressFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** Removes the address file at exit when it is still this process's (another start may have taken the path). */
function removeOwnAddressFile(path: string): void {
  try {
    if (parseRecord(readFileSync(path, 'utf8'))?.pid === process.pid) unlinkSync(path);
  } catch {
    // gone already, or never written: nothing to remove
  }
}

/**
 * Records `url` (the gateway's, as reached from this machine) in the address file: written whole
 * under another name, then renamed, so a reader never sees half of it. The file is removed when
 * the process exits (not after SIGKILL: a reader then finds its process gone).
 */
export async function writeAddressFile(path: string, url: string): Promise<void> {
  const record: AddressRecord = { url, pid: process.pid };
  const partial = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(partial, `${JSON.stringify(record)}\n`, { mode: 0o644 });
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true }).catch(() => undefined);
    throw error;
  }
  process.once('exit', () => removeOwnAddressFile(path));
}

/**
 * The URL of the gateway the address file names, when the process that wrote it still runs;
 * undefined without a file (the gateway has not listened yet, or its start does not write one),
 * with one its process left behind, or with one that is not an address file. A file that exists
 * but cannot be read is the environment's problem (a {@link ConfigError}).
 */
export async function readAddressFile(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError('the environment', [
      `${ADDRESS_FILE_VARIABLE}: cannot read ${path}: ${code ?? (error as Error).message}`,
    ]);
  }
  const record = parseRecord(text);
  return record !== undefined && running(record.pid) ? record.url : undefined;
}
