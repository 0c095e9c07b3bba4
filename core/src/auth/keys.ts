import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, type KeyObject, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../shared/logger.ts';
import type { AuthConfig } from './auth-config.ts';

/** The one algorithm our own tokens use (jsonwebtoken 9 has no EdDSA). */
export const ACCESS_TOKEN_ALGORITHM = 'ES256';

export interface SigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface AuthKeys {
  readonly signing: SigningKey;
  /** AES-256-GCM key for secrets at rest (TOTP secrets). */
  readonly dataKey: Buffer;
  /** HMAC key for IP and e-mail hashes (derived from the data key, never used to encrypt). */
  readonly hashingKey: Buffer;
}

/** RFC 7638 thumbprint of an EC public key: a stable `kid` when none is configured. */
export function jwkThumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Creates `file` with `contents` unless it exists, atomically: several processes (or test
 * workers) starting at once agree on one key instead of overwriting each other's.
 */
function createOnce(file: string, contents: string): 'created' | 'exists' {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, contents, { mode: 0o600 });
  try {
    fs.linkSync(temporary, file);
    return 'created';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
    throw error;
  } finally {
    fs.unlinkSync(temporary);
  }
}

function loadSigningKey(config: AuthConfig, logger: Logger): SigningKey {
  let pem = config.jwtPrivateKeyPem;
  if (!pem) {
    if (!config.allowGeneratedKeys) throw new Error('Invalid configuration: JWT_PRIVATE_KEY: required on the PROD tier');
    const file = path.join(config.keysDir, 'jwt-es256.pem');
    const generated = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    if (createOnce(file, generated) === 'created') {
      logger.info({ file }, 'JWT_PRIVATE_KEY is not set: generated a development ES256 signing key (never used on PROD)');
    }
    pem = fs.readFileSync(file, 'utf8');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new Error('Invalid configuration: JWT_PRIVATE_KEY: not a readable PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('Invalid configuration: JWT_PRIVATE_KEY: must be an EC P-256 key (ES256)');
  }
  const publicKey = createPublicKey(privateKey);
  return { keyId: config.jwtKeyId ?? jwkThumbprint(publicKey), privateKey, publicKey };
}

function loadDataKey(config: AuthConfig, logger: Logger): Buffer {
  if (config.dataEncryptionKey) return config.dataEncryptionKey;
  if (!config.allowGeneratedKeys) throw new Error('Invalid configuration: DATA_ENCRYPTION_KEY: required on the PROD tier');
  const file = path.join(config.keysDir, 'data-encryption.key');
  if (createOnce(file, randomBytes(32).toString('base64')) === 'created') {
    logger.info({ file }, 'DATA_ENCRYPTION_KEY is not set: generated a development data key (never used on PROD)');
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`The data key in ${file} is not 32 bytes; delete it to generate a new one`);
  return key;
}

/**
 * The token-signing key and the data key, from the configuration or (outside PROD) generated once
 * and kept under `KEYS_DIR` (.data/keys, gitignored) so tokens and encrypted secrets survive restarts.
 */
export function loadAuthKeys(config: AuthConfig, logger: Logger): AuthKeys {
  const dataKey = loadDataKey(config, logger);
  return {
    signing: loadSigningKey(config, logger),
    dataKey,
    hashingKey: Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), 'instainstru identifier hashing', 32)),
  };
}
