import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import type { RolePermissions } from '../auth/role-permissions.ts';
import { notFound } from '../shared/errors.ts';
import { findRoles } from './user.queries.ts';

/** The signed-in user as `GET /auth/me` shows them. */
export interface CurrentUser {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  roles: string[];
  permissions: string[];
  timezone: string;
  twoFactorEnabled: boolean;
}

/** Reads the account fresh from the database (roles may have changed since the token was issued). */
export async function getCurrentUser(db: Kysely<DB>, userId: string, rolePermissions: RolePermissions): Promise<CurrentUser> {
  const user = await db
    .selectFrom('users')
    .where('id', '=', userId)
    .select(['id', 'email', 'firstName', 'lastName', 'timezone', 'totpEnabledAt'])
    .executeTakeFirst();
  if (!user) throw notFound('The account');
  const roles = await findRoles(db, userId);
  const permissions = await rolePermissions.permissionsFor(db, roles);
  return {
    id: user.id,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    roles,
    permissions: [...permissions].sort(),
    timezone: user.timezone,
    twoFactorEnabled: user.totpEnabledAt !== null,
  };
}
