import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Launches the system Chromium (Debian's `chromium` package, or CHROMIUM_PATH). */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. Install it with \`apt-get install -y chromium\` ` +
        'or point CHROMIUM_PATH at a Chromium binary. The browser tests do not skip without it.',
    );
  }
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
