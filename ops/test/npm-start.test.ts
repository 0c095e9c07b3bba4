import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number, output: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output.text.slice(-3000)}`)),
      timeoutMs,
    );
    const check = () => {
      if (pattern.test(output.text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited early with ${code}:\n${output.text.slice(-3000)}`));
    });
    check();
  });
}

describe('npm start on the embedded defaults', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'instainstru-start-'));
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates and seeds an empty embedded database, serves seeded instructors, and stops cleanly on Ctrl-C', async () => {
    const apiPort = await freePort();
    const mcpPort = await freePort();
    const output = { text: '' };
    // No DATABASE_URL: the embedded PGlite in a fresh folder, exactly like a fresh clone.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      API_PORT: String(apiPort),
      MCP_PORT: String(mcpPort),
      PGLITE_DATA_DIR: dataDir,
      START_ONLY: 'api,mcp',
      LOG_LEVEL: 'warn',
    };
    child = spawn(process.execPath, [path.join(root, 'ops/dev/start.mjs')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk) => (output.text += chunk.toString()));
    child.stderr?.on('data', (chunk) => (output.text += chunk.toString()));

    // the URL list ends with this line; waiting for it avoids reading a half-delivered chunk
    await waitForOutput(child, /Press Ctrl-C to stop\./, 200_000, output);
    expect(output.text).toContain('InstaInstru is running');
    expect(output.text).toContain('embedded PGlite');
    expect(output.text).toContain(`http://localhost:${apiPort}/api/v1`);
    expect(output.text).toContain(`http://localhost:${mcpPort}/mcp`);

    const health = (await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    type Page = { items: Array<{ id: string }>; nextCursor: string | null };
    const page = (await (await fetch(`http://127.0.0.1:${apiPort}/api/v1/instructors?limit=100`)).json()) as Page;
    expect(page.items).toHaveLength(100);
    expect(page.nextCursor).toEqual(expect.any(String));
    const second = (await (
      await fetch(`http://127.0.0.1:${apiPort}/api/v1/instructors?limit=100&cursor=${encodeURIComponent(page.nextCursor ?? '')}`)
    ).json()) as Page;
    expect(second.items.length).toBeGreaterThan(0);
    const ids = new Set([...page.items, ...second.items].map((item: { id: string }) => item.id));
    expect(ids.size).toBe(page.items.length + second.items.length);

    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output.text).toContain('Stopped.');
    await expect(fetch(`http://127.0.0.1:${apiPort}/api/v1/health`)).rejects.toThrow();
  });
});
