import { type Algorithm, hash, hashSync, verify } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

// OWASP Password Storage Cheat Sheet, Argon2id first option: m=19 MiB, t=2, p=1.
// (`Algorithm` is a const enum, which isolated modules cannot read: 2 is Argon2id.)
const ARGON2ID = 2 as Algorithm;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const CURRENT_PREFIX = '$argon2id$v=19$m=19456,t=2,p=1$';

/**
 * A password as clients send it: 8–128 characters (Unicode code points). Anything longer is
 * refused by validation before it could reach the (deliberately slow) hash function.
 */
export const Password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, 'Passwords are 8 to 128 characters.')
  .max(PASSWORD_MAX_LENGTH * 2, 'Passwords are 8 to 128 characters.')
  .refine((value) => {
    const length = [...value].length;
    return length >= PASSWORD_MIN_LENGTH && length <= PASSWORD_MAX_LENGTH;
  }, 'Passwords are 8 to 128 characters.')
  .describe('8 to 128 characters; compared after Unicode NFKC normalization');

/**
 * The same password typed on different keyboards can arrive as different code points
 * ("é" precomposed or e + combining accent, full-width letters): NFKC makes them one.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Argon2id hash (PHC string) of the normalized password. */
export function hashPassword(password: string): Promise<string> {
  return hash(normalizePassword(password), OPTIONS);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, normalizePassword(password)).catch(() => false);
}

/** True when a stored hash was made with other parameters than today's, so login upgrades it. */
export function needsRehash(passwordHash: string): boolean {
  return !passwordHash.startsWith(CURRENT_PREFIX);
}

/**
 * A hash of a random password, verified against when the e-mail is unknown, so a login for a
 * missing account takes as long as one for a real account with a wrong password.
 */
export function makeDummyPasswordHash(): string {
  return hashSync(randomBytes(16).toString('hex'), OPTIONS);
}
