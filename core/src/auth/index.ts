export {
  ANONYMOUS,
  hasPermission,
  principalKey,
  requireUser,
  userActor,
  type AnonymousPrincipal,
  type Principal,
  type ServicePrincipal,
  type UserPrincipal,
} from './principal.ts';
export { loadAuthConfig, parseServiceKeys, type AuthConfig, type ServiceJwtConfig, type ServiceKeyConfig } from './auth-config.ts';
export { createAuthDeps, type AuthDeps } from './auth-deps.ts';
export type { Caller } from './caller.ts';
export { keyedHash, sha256Hex } from './crypto.ts';
export { loadAuthKeys, type AuthKeys } from './keys.ts';
export { Password, hashPassword, verifyPassword, normalizePassword, PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH } from './passwords.ts';
export { resolvePrincipal } from './resolve-principal.ts';
export { SCOPE_PERMISSIONS, permissionsForScopes } from './scopes.ts';
export { SERVICE_KEY_PREFIX } from './service-keys.ts';
export { TotpCode, BackupCode } from './second-factor.ts';
export { register, type Registration } from './register.ts';
export { login, type LoginResult } from './login.ts';
export { verifyTwoFactorLogin, type TwoFactorProof } from './verify-two-factor-login.ts';
export { refreshSession } from './refresh-session.ts';
export { logout } from './logout.ts';
export { findSessions, type SessionSummary } from './list-sessions.ts';
export { revokeSession } from './revoke-session.ts';
export type { TokenPair } from './start-session.ts';
export { setupTwoFactor } from './setup-two-factor.ts';
export { enableTwoFactor } from './enable-two-factor.ts';
export { disableTwoFactor } from './disable-two-factor.ts';
export { requestPasswordReset } from './request-password-reset.ts';
export { confirmPasswordReset } from './confirm-password-reset.ts';
export { pruneLoginThrottle, SIGN_IN_THROTTLE, SECOND_FACTOR_THROTTLE } from './login-throttle.ts';
