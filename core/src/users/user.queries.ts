import type { DB } from '@instainstru/db';
import { type Kysely, sql, type Transaction } from 'kysely';

type Db = Kysely<DB> | Transaction<DB>;

/** What sign-in and two-factor checks read about a user. */
export interface CredentialRow {
  id: string;
  email: string;
  firstName: string;
  passwordHash: string | null;
  status: string;
  totpSecret: string | null;
  totpEnabledAt: Date | null;
}

const CREDENTIAL_COLUMNS = ['id', 'email', 'firstName', 'passwordHash', 'status', 'totpSecret', 'totpEnabledAt'] as const;

/** E-mail addresses are unique regardless of case (users_email_lower_key, PostgreSQL's `lower`). */
export async function findCredentialsByEmail(db: Db, email: string): Promise<CredentialRow | undefined> {
  return db
    .selectFrom('users')
    .where(sql<string>`lower(email)`, '=', sql<string>`lower(${email.trim()})`)
    .select(CREDENTIAL_COLUMNS)
    .executeTakeFirst();
}

export async function findCredentialsById(db: Db, userId: string): Promise<CredentialRow | undefined> {
  return db.selectFrom('users').where('id', '=', userId).select(CREDENTIAL_COLUMNS).executeTakeFirst();
}

/** The user's roles, sorted. */
export async function findRoles(db: Db, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('userRoles').where('userId', '=', userId).select('role').orderBy('role').execute();
  return rows.map((row) => row.role);
}
