import { useEffect, useState } from 'react';
import { checkApiHealth, healthUrl, type ApiHealth } from './api-health.ts';
import type { ConsoleConfig } from './config.ts';

export function App({ config }: { config: ConsoleConfig }) {
  const [health, setHealth] = useState<ApiHealth | 'checking'>('checking');

  useEffect(() => {
    const controller = new AbortController();
    void checkApiHealth(config.apiBaseUrl, { signal: controller.signal }).then((result) => {
      // The effect was cleaned up (unmount, or StrictMode's double run): its answer is stale.
      if (!controller.signal.aborted) setHealth(result);
    });
    return () => controller.abort();
  }, [config.apiBaseUrl]);

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2rem auto', padding: '0 1rem' }}>
      <h1>InstaInstru Console</h1>
      <section aria-label="API status">
        {health === 'checking' && <p role="status">Checking API…</p>}
        {health !== 'checking' && health.status === 'ok' && <p role="status">API: ok</p>}
        {health !== 'checking' && health.status === 'unreachable' && (
          <>
            <p role="status">API unreachable</p>
            <p role="alert" style={{ color: '#b42318' }}>
              Could not reach {healthUrl(config.apiBaseUrl)}: {health.reason}
            </p>
          </>
        )}
      </section>
    </main>
  );
}
