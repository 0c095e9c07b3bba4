import { type DB, newId } from '@instainstru/db';
import type { Transaction } from 'kysely';

export interface NewUser {
  email: string;
  passwordHash: string;
  firstName: string;
  lastName: string;
  roles: readonly string[];
}

/**
 * Inserts a user and their roles. A taken e-mail (any letter case) fails on the unique index,
 * which the error handler answers with 409 `already_exists` on `email`.
 */
export async function createUser(trx: Transaction<DB>, input: NewUser, now: Date): Promise<string> {
  const id = newId(now.getTime());
  await trx
    .insertInto('users')
    .values({
      id,
      email: input.email.trim(),
      passwordHash: input.passwordHash,
      firstName: input.firstName,
      lastName: input.lastName,
      createdAt: now,
      updatedAt: now,
    })
    .execute();
  for (const role of input.roles) {
    await trx.insertInto('userRoles').values({ userId: id, role, grantedAt: now }).execute();
  }
  return id;
}
