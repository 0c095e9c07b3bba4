import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import { findFreePort, runCommand, startServer, type RunningServer } from './support/processes.ts';

const storefrontDir = fileURLToPath(new URL('..', import.meta.url));
const tagline = 'Book a private instructor in New York City — instantly.';

describe('storefront, built for production and opened in Chromium', () => {
  let browser: Browser | undefined;
  let server: RunningServer | undefined;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    await runCommand('npm', ['run', 'build'], { cwd: storefrontDir });

    const port = await findFreePort();
    server = await startServer('npm', ['start', '--', '--hostname', '127.0.0.1'], {
      cwd: storefrontDir,
      env: { STOREFRONT_PORT: String(port) },
      url: `http://127.0.0.1:${port}/`,
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  beforeEach(async () => {
    page = await browser!.newPage();
    // Below vitest's testTimeout, so a missing text fails with Playwright's message naming it.
    page.setDefaultTimeout(10_000);
  });

  afterEach(async () => {
    await page.close();
  });

  it('shows the name and the tagline on the home page', async () => {
    await page.goto(server!.url);
    expect(await page.title()).toBe('InstaInstru');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('InstaInstru');
    expect(await page.getByText(tagline).isVisible()).toBe(true);
  });

  it('takes a search from the home page to the results page', async () => {
    await page.goto(server!.url);
    await page.getByLabel('What do you want to learn?').fill('jazz piano');
    await page.getByRole('button', { name: 'Search' }).click();

    await page.waitForURL((url) => url.pathname === '/search');
    expect(new URL(page.url()).searchParams.get('q')).toBe('jazz piano');
    await page.getByRole('heading', { name: 'Search results for “jazz piano”' }).waitFor();
    expect(await page.getByText('Coming soon').isVisible()).toBe(true);
  });

  it('echoes a query opened straight from a link', async () => {
    await page.goto(`${server!.url}search?q=${encodeURIComponent('Spanish & French')}`);
    await page.getByRole('heading', { name: 'Search results for “Spanish & French”' }).waitFor();
  });
});
