import { randomBytes } from 'node:crypto';
import { loadMcpConfig } from './config.ts';
import { createMcpHttpServer } from './server.ts';

const config = loadMcpConfig(process.env);
const staticToken = config.staticToken ?? randomBytes(24).toString('base64url');
const server = createMcpHttpServer({ ...config, staticToken });
server.listen(config.port, config.host, () => {
  console.log(`MCP copilot listening on http://${config.host}:${config.port}/mcp (API: ${config.apiUrl})`);
  if (!config.staticToken) {
    console.log(`Development static token (set MCP_STATIC_TOKEN to keep it stable): ${staticToken}`);
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
