import type { NextConfig } from 'next';

// Telemetry is turned off with NEXT_TELEMETRY_DISABLED=1 in the package scripts: it is not a config option.
const nextConfig: NextConfig = {
  typedRoutes: false,
  poweredByHeader: false,
};

export default nextConfig;
