import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseServiceKeys } from '../src/auth/auth-config.ts';
import { generateBackupCodes, normalizeBackupCode } from '../src/auth/backup-codes.ts';
import { hashPassword, needsRehash, verifyPassword } from '../src/auth/passwords.ts';
import { permissionsForScopes } from '../src/auth/scopes.ts';
import { matchServiceKey } from '../src/auth/service-keys.ts';
import { openSecret, sealSecret } from '../src/auth/secret-box.ts';
import { base32Decode, base32Encode, hotp, matchTotpStep, totpCode, totpStep } from '../src/auth/totp.ts';

// RFC 6238 appendix B uses the ASCII secret "12345678901234567890" and 8 digits; authenticator
// apps show the last 6 of the same value.
const RFC_SECRET = base32Encode(Buffer.from('12345678901234567890'));

describe('TOTP (RFC 6238, SHA-1)', () => {
  it.each([
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ])('matches the RFC test vector at T=%i', (seconds, eightDigits) => {
    const step = totpStep(new Date(seconds * 1000));
    expect(hotp(Buffer.from('12345678901234567890'), step, 8)).toBe(eightDigits);
    expect(totpCode(RFC_SECRET, step)).toBe(eightDigits.slice(-6));
  });

  it('matches HOTP test values of RFC 4226 appendix D', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, counter) => hotp(Buffer.from('12345678901234567890'), counter))).toEqual(expected);
  });

  it('finds the matching step within one step either side, and nothing further', () => {
    const at = new Date('2030-01-01T00:00:10Z');
    const step = totpStep(at);
    for (const offset of [-1, 0, 1]) expect(matchTotpStep(RFC_SECRET, totpCode(RFC_SECRET, step + offset), at)).toBe(step + offset);
    for (const offset of [-2, 2]) expect(matchTotpStep(RFC_SECRET, totpCode(RFC_SECRET, step + offset), at)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, '12345', at)).toBeNull();
    expect(matchTotpStep(RFC_SECRET, '１２３４５６', at)).toBeNull();
  });

  it('round-trips base32', () => {
    for (const length of [0, 1, 5, 19, 20, 32]) {
      const bytes = randomBytes(length);
      expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
    }
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
  });
});

describe('sealed secrets (AES-256-GCM)', () => {
  const key = randomBytes(32);

  it('open only with the same key and context', () => {
    const sealed = sealSecret(key, 'JBSWY3DPEHPK3PXP', 'totp:user-1');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(openSecret(key, sealed, 'totp:user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => openSecret(key, sealed, 'totp:user-2')).toThrow();
    expect(() => openSecret(randomBytes(32), sealed, 'totp:user-1')).toThrow();
    const parts = sealed.split(':');
    parts[2] = Buffer.from('tampered').toString('base64url');
    expect(() => openSecret(key, parts.join(':'), 'totp:user-1')).toThrow();
  });
});

describe('passwords', () => {
  it('hash with Argon2id at the OWASP parameters and verify NFKC-equal input', async () => {
    const hash = await hashPassword('Ｐａｓｓｗｏｒｄ ①');
    expect(hash.startsWith('$argon2id$v=19$m=19456,t=2,p=1$')).toBe(true);
    expect(needsRehash(hash)).toBe(false);
    expect(await verifyPassword(hash, 'Password 1')).toBe(true);
    expect(await verifyPassword(hash, 'Password 2')).toBe(false);
    expect(await verifyPassword('not a hash', 'Password 1')).toBe(false);
    expect(needsRehash('$argon2id$v=19$m=4096,t=3,p=1$abc$def')).toBe(true);
  });
});

describe('backup codes', () => {
  it('are eight distinct 10-character codes without look-alike letters', () => {
    const codes = generateBackupCodes();
    expect(codes).toHaveLength(8);
    expect(new Set(codes).size).toBe(8);
    for (const code of codes) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{10}$/);
    expect(normalizeBackupCode(' abcde-12345 ')).toBe('ABCDE12345');
  });
});

describe('service scopes and keys', () => {
  it('map scopes to permissions through the one table, ignoring unknown scopes', () => {
    expect([...permissionsForScopes(['ops:read', 'pii:read', 'root'])].sort()).toEqual(['monitoring:access', 'users:read:pii']);
    expect(permissionsForScopes([]).size).toBe(0);
  });

  it('parse name:sha256[:scopes] entries and match a presented key by its hash', () => {
    const token = 'ii_sk_example-token';
    const hash = createHash('sha256').update(token).digest('hex');
    const keys = parseServiceKeys(`mcp:${hash}:ops:read admin:read, bare:${'0'.repeat(64)}`);
    expect(keys.map((key) => [key.name, key.scopes])).toEqual([
      ['mcp', ['ops:read', 'admin:read']],
      ['bare', []],
    ]);
    expect(matchServiceKey(keys, token, 'dana')).toMatchObject({ kind: 'service', serviceId: 'mcp', onBehalfOf: 'dana' });
    expect(matchServiceKey(keys, `${token}x`, null)).toBeUndefined();
  });
});
