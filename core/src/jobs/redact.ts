import type { JsonValue } from '@instainstru/db';
import { maskEmails } from '../shared/logger.ts';

// Payloads carry ids, not personal data; this is the net for the day one does not.
const SENSITIVE_KEY =
  /(e-?mail|phone|password|secret|token|card|iban|routing|account.?number|address|ssn|birth|name|note|message|body|^ip$|ip.?hash)/i;
const MAX_STRING = 200;
const MAX_ITEMS = 20;
const MAX_DEPTH = 4;

/**
 * A job payload as monitoring shows it: values under sensitive-looking keys replaced, emails
 * masked everywhere, long strings and lists cut, deep nesting elided.
 */
export function redactPayload(value: unknown, depth = 0): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    const masked = maskEmails(value);
    return masked.length > MAX_STRING ? `${masked.slice(0, MAX_STRING)}…` : masked;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => redactPayload(item, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[… ${value.length - MAX_ITEMS} more]`);
    return items;
  }
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[key] = SENSITIVE_KEY.test(key) && !/id$/i.test(key) ? '[redacted]' : redactPayload(item, depth + 1);
    }
    return out;
  }
  return String(value);
}

/** The part of a stored job error monitoring shows: name, code and message (masked, cut). */
export function redactJobError(output: unknown): { name: string; message: string; code: string | null } | null {
  if (!output || typeof output !== 'object') return null;
  // pg-boss wraps non-object outputs as { value }; its own timeout failure looks like that too.
  const source =
    'message' in output
      ? (output as Record<string, unknown>)
      : ((output as { value?: unknown }).value as Record<string, unknown> | undefined);
  if (!source || typeof source !== 'object' || typeof source.message !== 'string') return null;
  const message = maskEmails(source.message);
  return {
    name: typeof source.name === 'string' ? source.name : 'Error',
    message: message.length > 1_000 ? `${message.slice(0, 1_000)}…` : message,
    code: typeof source.code === 'string' ? source.code : null,
  };
}
