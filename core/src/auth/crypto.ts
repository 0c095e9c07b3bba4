import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A fresh unguessable token (256 bits), base64url, with a prefix that secret scanners can spot. */
export function randomToken(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** How tokens are stored: a random 256-bit token needs no salt or slow hash, only a one-way one. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * A keyed hash for identifiers we must count or correlate but never store (IP addresses,
 * e-mail addresses in throttle keys). Without the key, a table of all IPv4 hashes is useless.
 */
export function keyedHash(key: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', key).update(`${purpose}\u0000${value}`, 'utf8').digest('hex').slice(0, 32);
}

/** Compares two secrets without leaking where they differ. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
