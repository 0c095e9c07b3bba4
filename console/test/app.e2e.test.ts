import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import { createFakeHealthApi, type FakeHealthApi } from './support/fake-health-api.ts';
import { findFreePort, runCommand, startServer, type RunningServer } from './support/processes.ts';

const consoleDir = fileURLToPath(new URL('..', import.meta.url));

describe('console, built for production and opened in Chromium', () => {
  let browser: Browser | undefined;
  let healthApi: FakeHealthApi | undefined;
  let preview: RunningServer | undefined;
  let outDir: string | undefined;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();

    // VITE_API_URL is baked in at build time, so the fake API's port is chosen before building.
    healthApi = createFakeHealthApi(await findFreePort());
    outDir = await mkdtemp(join(tmpdir(), 'instainstru-console-'));
    await runCommand('npm', ['run', 'build', '--', '--outDir', outDir, '--emptyOutDir'], {
      cwd: consoleDir,
      env: { VITE_API_URL: healthApi.url },
    });

    const port = await findFreePort();
    preview = await startServer('npm', ['start', '--', '--host', '127.0.0.1', '--outDir', outDir], {
      cwd: consoleDir,
      env: { CONSOLE_PORT: String(port) },
      url: `http://127.0.0.1:${port}/`,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await preview?.stop();
    await healthApi?.stop();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    page = await browser!.newPage();
    // Below vitest's testTimeout, so a missing text fails with Playwright's message naming it.
    page.setDefaultTimeout(10_000);
  });

  afterEach(async () => {
    await page.close();
  });

  it('shows the console title', async () => {
    await healthApi!.start();
    await page.goto(preview!.url);
    await expect.poll(() => page.title()).toBe('InstaInstru Console');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('InstaInstru Console');
  });

  it('shows a loading state, then "API: ok" when the API answers', async () => {
    await healthApi!.start();
    const release = healthApi!.holdAnswers();
    await page.goto(preview!.url);
    await page.getByText('Checking API…').waitFor();

    release();
    await page.getByText('API: ok').waitFor();
    expect(await page.getByText('Checking API…').count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('shows "API unreachable" and why when nothing answers', async () => {
    await healthApi!.stop();
    await page.goto(preview!.url);
    await page.getByText('API unreachable').waitFor();

    const alert = await page.getByRole('alert').textContent();
    expect(alert).toContain(`Could not reach ${healthApi!.url}/api/v1/health`);
    expect(await page.getByText('API: ok').count()).toBe(0);
  });
});
