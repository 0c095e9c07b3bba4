export { createUser, type NewUser } from './create-user.ts';
export { getCurrentUser, type CurrentUser } from './get-current-user.ts';
export { grantRole, ROLES, type Role } from './grant-role.ts';
export { revokeRole } from './revoke-role.ts';
export { findCredentialsByEmail, findCredentialsById, findRoles, type CredentialRow } from './user.queries.ts';
