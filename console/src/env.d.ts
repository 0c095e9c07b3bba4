interface ImportMetaEnv {
  /** Base URL of the InstaInstru API, e.g. https://api.instainstru.com (no trailing /api/v1). */
  readonly VITE_API_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
