import fs from 'node:fs';
import type { Express } from 'express';

const read = (name: string) => fs.readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');

/**
 * The page may run only this server's script and stylesheet and talk only to this server:
 * everything it needs is served here, so it works offline and nothing can be injected.
 */
export const DOCS_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The browsable API reference at `/docs`: a small page and script that render `/openapi.json`. */
export function docsRoutes(app: Express): void {
  const files = {
    '/docs': { body: read('index.html'), type: 'text/html; charset=utf-8' },
    '/docs/docs.js': { body: read('docs.js'), type: 'text/javascript; charset=utf-8' },
    '/docs/docs.css': { body: read('docs.css'), type: 'text/css; charset=utf-8' },
  };
  for (const [path, file] of Object.entries(files)) {
    app.get(path, (_req, res) => {
      res.locals.routeTemplate = path;
      res.setHeader('Content-Security-Policy', DOCS_CONTENT_SECURITY_POLICY);
      res.setHeader('Content-Type', file.type);
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.send(file.body);
    });
  }
}
