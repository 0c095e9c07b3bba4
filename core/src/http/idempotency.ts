import { createHash } from 'node:crypto';
import type { Database } from '@instainstru/db';
import type { Request, RequestHandler } from 'express';
import { z } from 'zod';
import type { AppConfig } from '../config.ts';
import { AppError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { completeIdempotencyKey, releaseIdempotencyKey, reserveIdempotencyKey } from './idempotency-store.ts';
import { rateLimitIdentity } from './rate-limit.ts';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
const MAX_KEY_LENGTH = 255;
const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;

/** The `headers` entry for a route's spec, so the OpenAPI document shows the header. */
export function idempotencyKeyHeaders(options: { required?: boolean } = {}) {
  const key = z
    .string()
    .min(1)
    .max(MAX_KEY_LENGTH)
    .describe(
      'A unique value per intended operation (a UUID). Retries with the same key and body get the first answer again, marked `Idempotent-Replayed: true`; another body with the same key is 409.',
    );
  return z.object({ [IDEMPOTENCY_KEY_HEADER]: options.required ? key : key.optional() });
}

/** JSON with object keys sorted at every level, so key order never changes the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** SHA-256 of method, path and canonical body: what "the same request" means for a key. */
export function idempotencyRequestHash(req: Request): string {
  const path = req.originalUrl.split('?')[0] ?? '';
  return createHash('sha256')
    .update(`${req.method}\n${path}\n${canonicalJson(req.body ?? null)}`)
    .digest('hex');
}

/**
 * Makes a creating route safe to retry. The first answer to (caller, `Idempotency-Key`) is stored
 * before it is sent and replayed to every retry for 24 hours (same status and body, header
 * `Idempotent-Replayed: true`); the same key with another body is 409 `idempotency_key_reused`;
 * a retry while the first request still runs is 409 `idempotency_in_progress` with `Retry-After`.
 * 5xx answers are not stored: the key is released so the client can retry.
 *
 * The caller is the signed-in principal; anonymous callers are scoped by IP, so one client's
 * key can never replay another's answer unless both the address and the exact request match.
 */
export function idempotency(
  deps: { database: Database; config: Pick<AppConfig, 'requestTimeoutMs'>; logger: Logger },
  options: { required?: boolean } = {},
): RequestHandler {
  // A reservation outlives the request deadline, so only a crashed process' key is taken over.
  const leaseMs = deps.config.requestTimeoutMs * 2;
  return async (req, res, next) => {
    const key = req.get(IDEMPOTENCY_KEY_HEADER);
    if (key === undefined) {
      if (options.required) {
        throw new AppError(
          'validation_error',
          `Send an ${IDEMPOTENCY_KEY_HEADER} header (a UUID) so this request can be retried safely.`,
          IDEMPOTENCY_KEY_HEADER,
        );
      }
      next();
      return;
    }
    if (key.length > MAX_KEY_LENGTH || !PRINTABLE_ASCII.test(key)) {
      throw new AppError(
        'validation_error',
        `${IDEMPOTENCY_KEY_HEADER} must be 1–${MAX_KEY_LENGTH} printable characters; a UUID is ideal.`,
        IDEMPOTENCY_KEY_HEADER,
      );
    }
    const ref = { principalKey: rateLimitIdentity(req), key };
    const requestHash = idempotencyRequestHash(req);
    const reservation = await reserveIdempotencyKey(deps.database, { ...ref, requestHash, leaseMs });

    if (reservation.kind !== 'reserved' && reservation.requestHash !== requestHash) {
      throw new AppError(
        'idempotency_key_reused',
        `This ${IDEMPOTENCY_KEY_HEADER} was already used for a different request; send a new key for a new request.`,
        IDEMPOTENCY_KEY_HEADER,
      );
    }
    if (reservation.kind === 'in_progress') {
      throw new AppError(
        'idempotency_in_progress',
        `A request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry shortly to get its answer.`,
        IDEMPOTENCY_KEY_HEADER,
        1,
      );
    }
    if (reservation.kind === 'completed') {
      res.status(reservation.responseStatus).setHeader('Idempotent-Replayed', 'true');
      if (reservation.responseBody === null) res.end();
      else res.type('application/json').send(reservation.responseBody);
      return;
    }

    // Reserved: store the first answer before sending it, so a retry that follows the answer
    // always finds it (sending first would let a quick retry hit `in_progress`).
    let settled = false;
    const settle = (status: number, body: string | null): Promise<void> =>
      status >= 500
        ? releaseIdempotencyKey(deps.database, ref)
        : completeIdempotencyKey(deps.database, { ...ref, responseStatus: status, responseBody: body });
    const sendJson = res.json.bind(res);
    res.json = (body: unknown) => {
      if (settled) return sendJson(body);
      settled = true;
      settle(res.statusCode, JSON.stringify(body))
        .catch((error: unknown) => {
          // The work is done; answer anyway. The key stays reserved until its lease ends.
          deps.logger.warn(
            { err: { message: (error as Error).message }, requestId: req.requestId },
            'could not store the idempotent answer',
          );
        })
        .then(() => sendJson(body))
        .catch(next);
      return res;
    };
    res.once('finish', () => {
      if (settled) return;
      settled = true;
      settle(res.statusCode, null).catch((error: unknown) =>
        deps.logger.warn({ err: { message: (error as Error).message }, requestId: req.requestId }, 'could not store the idempotent answer'),
      );
    });
    next();
  };
}
