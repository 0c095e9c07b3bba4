/** What the console knows about the API after one health check. */
export type ApiHealth = { readonly status: 'ok' } | { readonly status: 'unreachable'; readonly reason: string };

/** The health endpoint under an API base URL, which may carry a path prefix and a trailing slash. */
export function healthUrl(apiBaseUrl: string): string {
  return `${apiBaseUrl.replace(/\/+$/, '')}/api/v1/health`;
}

/**
 * Asks the API whether it is up. Never throws: a network failure, a timeout or a non-2xx answer
 * all come back as `unreachable` with a reason a person can read.
 */
export async function checkApiHealth(
  apiBaseUrl: string,
  options: { readonly signal?: AbortSignal; readonly timeoutMs?: number } = {},
): Promise<ApiHealth> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await fetch(healthUrl(apiBaseUrl), { signal, headers: { accept: 'application/json' } });
    if (!response.ok) {
      return { status: 'unreachable', reason: `health check answered HTTP ${response.status}` };
    }
    return { status: 'ok' };
  } catch (error) {
    if (timeout.aborted) {
      return { status: 'unreachable', reason: `no answer within ${timeoutMs / 1000} s` };
    }
    return { status: 'unreachable', reason: error instanceof Error ? error.message : String(error) };
  }
}
