import pino, { type Logger } from 'pino';

export type { Logger };

const EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/g;

/** "sarah.chen@example.com" → "s***@example.com": enough to correlate, not enough to harvest. */
export function maskEmails(text: string): string {
  return text.replace(EMAIL, '$1***@$2');
}

/**
 * The process logger. Secrets never reach the output: credential-bearing fields are redacted
 * wherever they appear, and emails are masked in messages and URLs.
 */
export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    redact: {
      paths: [
        'password',
        '*.password',
        'newPassword',
        '*.newPassword',
        'token',
        '*.token',
        'accessToken',
        '*.accessToken',
        'refreshToken',
        '*.refreshToken',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'headers.cookie',
        '*.headers.authorization',
        '*.headers.cookie',
        'secret',
        '*.secret',
        'totpSecret',
        '*.totpSecret',
        'code',
        '*.backupCode',
        'databaseUrl',
        'redisUrl',
        'stripeSecretKey',
        '*.stripeSecretKey',
        'stripeWebhookSecret',
        '*.stripeWebhookSecret',
      ],
      censor: '[redacted]',
    },
    formatters: {
      log(object) {
        for (const key of ['url', 'email', 'msg'] as const) {
          const value = object[key];
          if (typeof value === 'string') object[key] = maskEmails(value);
        }
        return object;
      },
    },
  });
}
