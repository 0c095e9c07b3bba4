import { z } from 'zod';
import { grantRole, revokeRole, ROLES } from '../../users/index.ts';
import { callerOf } from '../authenticate.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';

const RoleParams = z.object({ id: z.string().min(1).max(64), role: z.enum(ROLES) }).strict();
const UserRolesSchema = z.object({ userId: z.string(), roles: z.array(z.string()) }).meta({ id: 'UserRoles' });

/** Granting and revoking roles (audited; a revoked role also signs the user out everywhere). */
export function adminUserRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add(
    {
      method: 'put',
      path: '/admin/users/:id/roles/:role',
      operationId: 'grantRole',
      summary: 'Give a user a role (idempotent)',
      tags: ['admin'],
      auth: { permission: 'roles:assign' },
      params: RoleParams,
      responses: { 200: { description: "The user's roles now", schema: UserRolesSchema }, 404: { description: 'No such user' } },
    },
    requirePermission('roles:assign'),
    async (req, res) => {
      const { id, role } = RoleParams.parse(req.params);
      const roles = await grantRole(deps.database.db, id, role, callerOf(req), deps.clock.now());
      res.json({ userId: id, roles });
    },
  );

  api.add(
    {
      method: 'delete',
      path: '/admin/users/:id/roles/:role',
      operationId: 'revokeRole',
      summary: 'Take a role away from a user (idempotent); signs them out everywhere',
      tags: ['admin'],
      auth: { permission: 'roles:assign' },
      params: RoleParams,
      responses: { 200: { description: "The user's roles now", schema: UserRolesSchema }, 404: { description: 'No such user' } },
    },
    requirePermission('roles:assign'),
    async (req, res) => {
      const { id, role } = RoleParams.parse(req.params);
      const roles = await revokeRole(deps.database.db, id, role, callerOf(req), deps.clock.now());
      res.json({ userId: id, roles });
    },
  );
}
