import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { loadConfig } from './config.ts';

const rootElement = document.getElementById('root');
if (!rootElement) {
  throw new Error('index.html has no #root element to mount the console into');
}

createRoot(rootElement).render(
  <StrictMode>
    <App config={loadConfig(import.meta.env)} />
  </StrictMode>,
);
