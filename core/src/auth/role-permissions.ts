import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';

/** Resolves roles to permissions from the `role_permissions` table. */
export interface RolePermissions {
  permissionsFor(db: Kysely<DB>, roles: readonly string[]): Promise<ReadonlySet<string>>;
}

/**
 * Roles → permissions is reference data that changes with a migration, not per request, so each
 * process keeps a copy for `ttlMs` instead of querying on every authenticated request.
 */
export function createRolePermissions(ttlMs = 60_000): RolePermissions {
  let cached: { loadedAt: number; byRole: Map<string, Set<string>> } | undefined;
  let loading: Promise<Map<string, Set<string>>> | undefined;

  async function load(db: Kysely<DB>): Promise<Map<string, Set<string>>> {
    const rows = await db.selectFrom('rolePermissions').select(['role', 'permission']).execute();
    const byRole = new Map<string, Set<string>>();
    for (const row of rows) {
      const permissions = byRole.get(row.role) ?? new Set<string>();
      permissions.add(row.permission);
      byRole.set(row.role, permissions);
    }
    cached = { loadedAt: performance.now(), byRole };
    return byRole;
  }

  return {
    async permissionsFor(db, roles) {
      let byRole = cached && performance.now() - cached.loadedAt < ttlMs ? cached.byRole : undefined;
      if (!byRole) {
        loading ??= load(db).finally(() => {
          loading = undefined;
        });
        byRole = await loading;
      }
      return new Set(roles.flatMap((role) => [...(byRole.get(role) ?? [])]));
    },
  };
}
