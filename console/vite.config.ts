import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const port = Number(process.env.CONSOLE_PORT || 5173);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  throw new Error(`CONSOLE_PORT must be a TCP port number, got "${process.env.CONSOLE_PORT}"`);
}

export default defineConfig({
  plugins: [react()],
  server: { port, strictPort: true },
  preview: { port, strictPort: true },
});
