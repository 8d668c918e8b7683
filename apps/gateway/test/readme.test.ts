import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killGatewayProcesses, send, startGatewayProcess, type GatewayProcess } from './gateway-process';

// The README's examples are shell commands, not code for tsx (the libs' describeReadmeExample):
// each is run here as written, against the built command, on the port the OS picks.
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const BIN = fileURLToPath(new URL('../bin/switchyard.mjs', import.meta.url));
const root = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  scripts: Record<string, string>;
};
const started: GatewayProcess[] = [];
const dirs: string[] = [];

afterEach(() => killGatewayProcesses(started));
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-readme-'));
  dirs.push(dir);
  return dir;
}

/** The README's fenced `sh` blocks, in order. */
function shellBlocks(): string[] {
  return [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
}

describe('apps/gateway/README.md', { timeout: 60_000 }, () => {
  it("starts with the repository's quick start, which builds and starts this gateway", () => {
    expect(shellBlocks()[0]?.trim()).toBe('npm ci && npm start');
    expect(root.scripts['prestart']).toContain('nx run @switchyard/gateway:build');
    expect(root.scripts['start']).toBe('node apps/gateway/dist/cli.js start');
  });

  it('gets the answer it shows from the curl it gives, on the embedded defaults', async () => {
    const curl = shellBlocks().find((block) => block.startsWith('curl '));
    const command = /^curl (\S+) \\\n\s+-H '([^:]+): ([^']+)' \\\n\s+-d '([^']+)'\n$/.exec(curl ?? '');
    expect(command, curl).not.toBeNull();
    const [, url = '', header = '', value = '', body = ''] = command ?? [];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:8080\//);
    // a folder of its own: the embedded defaults write ./switchyard.db
    const gateway = await startGatewayProcess(
      ['--port', '0'],
      { SWITCHYARD_WORKERS: '1' },
      { cwd: tempDir() },
    );
    started.push(gateway);
    const response = await send(url.replace('http://127.0.0.1:8080', gateway.url), {
      headers: { [header]: value },
      body: JSON.parse(body) as unknown,
    });
    expect(response.status).toBe(200);
    const completion = JSON.parse(response.body) as {
      object: string;
      choices: Array<{ message: { content: string } }>;
    };
    expect(completion.object).toBe('chat.completion');
    expect(README).toContain(`whose message is\n\`${completion.choices[0]?.message.content}\``);
  });

  it('shows a config that config validate accepts', () => {
    const yaml = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    expect(yaml.length).toBeGreaterThan(0);
    const dir = tempDir();
    yaml.forEach((text, index) => {
      const file = join(dir, `gateway-${index}.yaml`);
      writeFileSync(file, text);
      const result = spawnSync(process.execPath, [BIN, 'config', 'validate', file], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '', OPENAI_API_KEY: 'sk-readme-0000000000' },
      });
      expect(result.status, result.stdout + result.stderr).toBe(0);
    });
  });

  it('shows npx switchyard commands that the command knows', () => {
    const commands = shellBlocks()
      .flatMap((block) => block.split('\n'))
      .filter((line) => line.startsWith('npx switchyard '))
      .map((line) => line.slice('npx switchyard '.length).split(' '));
    expect(commands.length).toBeGreaterThan(0);
    for (const args of commands) {
      // the command's words, up to its first flag or file: `--help` exits 0 for a command it knows, 2 for one it does not
      const end = args.findIndex((arg) => arg.startsWith('-') || arg.includes('.'));
      const words = args.slice(0, end < 0 ? args.length : end);
      const result = spawnSync(process.execPath, [BIN, ...words, '--help'], { encoding: 'utf8' });
      expect(result.status, `switchyard ${words.join(' ')} --help: ${result.stderr}`).toBe(0);
    }
  });
});
