/** Settings the console reads once at start-up from Vite's build-time env. */
export interface ConsoleConfig {
  readonly apiBaseUrl: string;
}

const DEFAULT_API_BASE_URL = 'http://localhost:8000';

export function loadConfig(env: { readonly VITE_API_URL?: string | undefined }): ConsoleConfig {
  // An empty VITE_API_URL (e.g. `VITE_API_URL=` in an .env file) means "not set".
  const apiBaseUrl = env.VITE_API_URL?.trim() || DEFAULT_API_BASE_URL;
  return Object.freeze({ apiBaseUrl });
}
