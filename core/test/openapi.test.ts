import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ApiRouter } from '../src/http/openapi/route.ts';
import { startTestApi, type TestApi } from './support/api.ts';

/** Routes that break their own contract, to prove the response validator catches it. */
function contractBreakers(api: ApiRouter): void {
  const Widget = z.object({ id: z.string(), size: z.number().int() });
  api.add(
    {
      method: 'get',
      path: '/test/wrong-shape',
      operationId: 'testWrongShape',
      summary: 'Answers a body that does not match its schema',
      tags: ['test'],
      auth: 'public',
      responses: { 200: { description: 'A widget', schema: Widget } },
    },
    (_req, res) => {
      res.json({ id: 42, size: 'large' });
    },
  );
  api.add(
    {
      method: 'get',
      path: '/test/undeclared-status',
      operationId: 'testUndeclaredStatus',
      summary: 'Answers a status its entry does not declare',
      tags: ['test'],
      auth: 'public',
      responses: { 200: { description: 'A widget', schema: Widget } },
    },
    (_req, res) => {
      res.status(202).json({ id: 'w1', size: 3 });
    },
  );
  api.add(
    {
      method: 'get',
      path: '/test/right-shape/:widgetId',
      operationId: 'testRightShape',
      summary: 'Answers what it declares',
      tags: ['test'],
      auth: 'public',
      params: z.object({ widgetId: z.string() }),
      responses: { 200: { description: 'A widget', schema: Widget } },
    },
    (req, res) => {
      res.json({ id: String(req.params.widgetId), size: 3 });
    },
  );
}

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: string;
}

/** Every method + path the Express app really serves, found by walking its router stack. */
function servedRoutes(stack: Layer[], prefix = ''): string[] {
  const found: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      for (const method of Object.keys(layer.route.methods).filter((name) => name !== '_all')) {
        found.push(`${method.toUpperCase()} ${prefix}${layer.route.path}`);
      }
    } else if (layer.handle?.stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      found.push(...servedRoutes(layer.handle.stack, `${prefix}${mount}`));
    }
  }
  return found;
}

function documentedRoutes(document: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
  );
}

let api: TestApi;
let document: any;

beforeAll(async () => {
  api = await startTestApi({ extraRoutes: contractBreakers });
  document = (await api.request('/openapi.json')).body;
});
afterAll(async () => {
  await api?.close();
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with unique operation ids and resolvable references', () => {
    expect(document.openapi).toBe('3.1.0');
    const operations = Object.values(document.paths as Record<string, Record<string, { operationId: string }>>).flatMap((item) =>
      Object.values(item),
    );
    const ids = operations.map((operation) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    // every $ref is a JSON pointer into this document (no stray `#/$defs/…` of a sub-schema)
    const references = [...JSON.stringify(document).matchAll(/"\$ref":"([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(references.length).toBeGreaterThan(10);
    for (const reference of new Set(references)) {
      expect(reference).toMatch(/^#\/components\/schemas\//);
      const target = reference
        .slice(2)
        .split('/')
        .reduce<any>((node, part) => node?.[part], document);
      expect(target, reference).toBeTypeOf('object');
    }
    expect(document.components.schemas.RateLimits.properties.policies.type).toBe('array');
  });

  it('lists every route the app serves under /api/v1, and nothing it does not serve', () => {
    const served = servedRoutes((api.app as unknown as { router: { stack: Layer[] } }).router.stack).filter((route) =>
      route.split(' ')[1]?.startsWith('/api/v1/'),
    );
    expect(served.length).toBeGreaterThanOrEqual(6);
    expect(served).toContain('GET /api/v1/metrics/prometheus');
    expect(served).toContain('GET /api/v1/test/right-shape/:widgetId');
    expect([...served].sort()).toEqual([...documentedRoutes(document)].sort());
  });

  it('documents each route’s access rule and rate-limit policy', () => {
    expect(document.paths['/api/v1/health'].get.security).toEqual([]);
    expect(document.paths['/api/v1/admin/rate-limits'].put['x-required-permission']).toBe('rate_limits:manage');
    expect(document.paths['/api/v1/metrics/prometheus'].get['x-required-permission']).toBe('monitoring:access');
    expect(document.paths['/api/v1/instructors'].get['x-rate-limit-policy']).toBe('default');
    expect(document.paths['/api/v1/admin/rate-limits'].get.responses).toHaveProperty('429');
  });
});

describe('responses are checked against the document (tests and development)', () => {
  it('turns a body that does not match its schema into a 500', async () => {
    const { status, body } = await api.request('/api/v1/test/wrong-shape');
    expect(status).toBe(500);
    expect(body.code).toBe('internal_error');
  });

  it('turns an undeclared status into a 500', async () => {
    expect((await api.request('/api/v1/test/undeclared-status')).status).toBe(500);
  });

  it('lets a conforming answer through', async () => {
    const { status, body } = await api.request('/api/v1/test/right-shape/w7');
    expect(status).toBe(200);
    expect(body).toEqual({ id: 'w7', size: 3 });
  });
});

describe('/docs', () => {
  it('serves a self-contained page whose CSP allows only this origin’s script and style', async () => {
    const page = await api.request('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(page.body).toContain('<script src="/docs/docs.js"');
    for (const asset of ['/docs', '/docs/docs.js', '/docs/docs.css']) {
      const { status, body } = await api.request(asset);
      expect(status).toBe(200);
      // nothing fetched from elsewhere: no absolute URLs at all
      expect(String(body)).not.toMatch(/https?:\/\//);
    }
    expect((await api.request('/docs/docs.js')).headers.get('content-type')).toContain('javascript');
  });

  it('renders every operation, grouped by tag, in a real browser with no CSP violations', async () => {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      const outside: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(api.baseUrl)) outside.push(request.url());
      });
      await page.goto(`${api.baseUrl}/docs`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });

      const operationCount = Object.values(document.paths as Record<string, object>).reduce(
        (sum, item) => sum + Object.keys(item).length,
        0,
      );
      expect(await page.locator('details.operation').count()).toBeGreaterThanOrEqual(operationCount);
      expect(await page.locator('section.tag h2').allTextContents()).toEqual(expect.arrayContaining(['admin', 'health', 'monitoring']));

      const readiness = page.locator('details#getReadiness');
      await readiness.locator('summary').click();
      await expect.poll(() => readiness.textContent()).toContain('/api/v1/ready');
      const text = (await readiness.textContent()) ?? '';
      expect(text).toContain('503');
      expect(text).toContain('checks');

      const update = page.locator('details#updateRateLimits');
      await update.locator('summary').click();
      expect(await update.textContent()).toContain('Request body');
      expect(await update.textContent()).toContain('permission rate_limits:manage');

      await page.fill('#filter', 'prometheus');
      expect(await page.locator('details.operation:not([hidden])').count()).toBe(1);

      expect(problems).toEqual([]);
      expect(outside).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
