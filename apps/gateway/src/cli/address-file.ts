import { randomBytes } from 'node:crypto';
import { constants, readFileSync, unlinkSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
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

/** Whether `host` (an IP literal, IPv6 without brackets) is a loopback address. */
function isLoopback(host: string): boolean {
  const ipv4 = host.replace(/^::ffff:/, '');
  if (isIP(ipv4) === 4) return ipv4.startsWith('127.');
  return host === '::1';
}

/**
 * Whether `url` is an http(s) URL of this machine: loopback (`localhost`, 127.0.0.0/8, `::1`) or
 * an address of one of its network interfaces. `start` records the address its server is bound
 * to, loopback for every interface (`0.0.0.0`, `::`): any other host is not the gateway's.
 */
function isLocalUrl(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  if (parsed.username !== '' || parsed.password !== '') return false;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || isLoopback(host)) return true;
  if (isIP(host) === 0) return false;
  return Object.values(networkInterfaces()).some((addresses) =>
    (addresses ?? []).some((address) => address.address.toLowerCase() === host),
  );
}

/** Whether the process `pid` runs and this user may signal it: one of another user's is not this user's gateway. */
function processOf(pid: number): 'ours' | 'gone' | 'another user' {
  try {
    process.kill(pid, 0);
    return 'ours';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'another user' : 'gone';
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
 * Records `url` (the gateway's, as reached from this machine) in the address file, readable and
 * writable by this user only: written whole under a new name of its own (created, never an
 * existing file or a link followed), then renamed, so a reader never sees half of it. The file is
 * removed when the process exits (not after SIGKILL: a reader then finds its process gone).
 */
export async function writeAddressFile(path: string, url: string): Promise<void> {
  const record: AddressRecord = { url, pid: process.pid };
  // not a name another user can guess and create first
  const partial = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const file = await open(partial, 'wx', 0o600);
  try {
    try {
      await file.writeFile(`${JSON.stringify(record)}\n`);
    } finally {
      await file.close();
    }
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true }).catch(() => undefined);
    throw error;
  }
  process.once('exit', () => removeOwnAddressFile(path));
}

/** O_NOFOLLOW: a link at the path is refused rather than followed (0 where the system has none). */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * The URL of the gateway the address file names, when the process that wrote it still runs;
 * undefined without a file (the gateway has not listened yet, or its start does not write one),
 * with one its process left behind, or with one that is not an address file. The admin commands
 * send the master key to that URL, so a file anyone but this user could have written is not
 * trusted: a symbolic link, a file that is not a regular one, one owned by another user or
 * writable by others, one naming a URL that is not http(s) on this machine (loopback or one of
 * its interfaces' addresses), or one naming another user's process. Such a file is passed to
 * `onRefused` with the reason and taken as absent. A file that exists but cannot be read is the
 * environment's problem (a {@link ConfigError}).
 */
export async function readAddressFile(
  path: string,
  onRefused: (reason: string) => void = () => undefined,
): Promise<string | undefined> {
  let text: string;
  try {
    const file = await open(path, READ_FLAGS);
    try {
      const stat = await file.stat();
      if (stat.isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
      if (!stat.isFile()) {
        onRefused('not a regular file');
        return undefined;
      }
      const uid = process.geteuid?.();
      // no owner or mode to check where the system has no uid (Windows)
      if (uid !== undefined && stat.uid !== uid) {
        onRefused(`owned by uid ${stat.uid}, not this user (${uid})`);
        return undefined;
      }
      if (uid !== undefined && (stat.mode & 0o022) !== 0) {
        onRefused(`writable by other users (mode ${(stat.mode & 0o777).toString(8)})`);
        return undefined;
      }
      text = await file.readFile('utf8');
    } finally {
      await file.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // O_NOFOLLOW on a symbolic link: ELOOP (Linux, macOS), EMLINK (FreeBSD)
    if (code === 'ELOOP' || code === 'EMLINK') {
      onRefused('a symbolic link');
      return undefined;
    }
    throw new ConfigError('the environment', [
      `${ADDRESS_FILE_VARIABLE}: cannot read ${path}: ${code ?? (error as Error).message}`,
    ]);
  }
  const record = parseRecord(text);
  if (record === undefined) return undefined;
  if (!isLocalUrl(record.url)) {
    onRefused(`its URL ${record.url} is not an http(s) address of this machine`);
    return undefined;
  }
  switch (processOf(record.pid)) {
    case 'ours':
      return record.url;
    case 'another user':
      onRefused(`its process ${record.pid} is another user's`);
      return undefined;
    case 'gone':
      return undefined;
  }
}
