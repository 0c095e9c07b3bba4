import type { Response } from 'express';
import { z } from 'zod';
import {
  BackupCode,
  confirmPasswordReset,
  disableTwoFactor,
  enableTwoFactor,
  findSessions,
  login,
  logout,
  Password,
  refreshSession,
  register,
  requestPasswordReset,
  requireUser,
  revokeSession,
  setupTwoFactor,
  type TokenPair,
  TotpCode,
  verifyTwoFactorLogin,
} from '../../auth/index.ts';
import { getCurrentUser } from '../../users/index.ts';
import { callerOf } from '../authenticate.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { pageOf } from '../schemas.ts';

const Email = z.string().trim().max(254).pipe(z.email('Enter a valid email address.')).describe('Email address (case-insensitive)');
const Name = z.string().trim().min(1).max(100);
const OpaqueToken = z.string().min(1).max(512);

export const RegisterBody = z
  .object({
    email: Email,
    password: Password,
    firstName: Name,
    lastName: Name,
    role: z.enum(['student', 'instructor']).describe('Admins are appointed by admins, never by signing up'),
  })
  .strict();
export const LoginBody = z.object({ email: Email, password: Password }).strict();
export const TwoFactorVerifyBody = z
  .object({
    challengeToken: OpaqueToken.max(2048).describe('From the login answer'),
    code: TotpCode.optional().describe('6-digit code from the authenticator app'),
    backupCode: BackupCode.optional().describe('One of the 10-character backup codes (single use)'),
  })
  .strict()
  .refine((body) => (body.code === undefined) !== (body.backupCode === undefined), {
    message: 'Send either code or backupCode.',
    path: ['code'],
  });
export const RefreshBody = z.object({ refreshToken: OpaqueToken }).strict();
export const LogoutBody = z.object({ refreshToken: OpaqueToken.optional() }).strict();
export const TwoFactorSetupBody = z.object({ password: Password }).strict();
export const TwoFactorEnableBody = z.object({ code: TotpCode }).strict();
export const TwoFactorDisableBody = z
  .object({ password: Password, code: TotpCode.optional(), backupCode: BackupCode.optional() })
  .strict()
  .refine((body) => (body.code === undefined) !== (body.backupCode === undefined), {
    message: 'Send either code or backupCode.',
    path: ['code'],
  });
export const PasswordResetRequestBody = z.object({ email: Email }).strict();
export const PasswordResetConfirmBody = z.object({ token: OpaqueToken, newPassword: Password }).strict();
const SessionParams = z.object({ id: z.string().min(1).max(64) }).strict();

export const TokenPairSchema = z
  .object({
    accessToken: z.string().describe('ES256 JWT; send as `Authorization: Bearer …`'),
    refreshToken: z.string().describe('Opaque, single use: each refresh returns a new one'),
    tokenType: z.literal('bearer'),
    expiresIn: z.number().int().describe('Seconds until the access token expires'),
  })
  .meta({ id: 'TokenPair' });
const ChallengeSchema = z.object({
  requires2fa: z.literal(true),
  challengeToken: z.string().describe('Send to POST /auth/2fa/verify with a code within 5 minutes'),
});
export const CurrentUserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    roles: z.array(z.string()),
    permissions: z.array(z.string()),
    timezone: z.string(),
    twoFactorEnabled: z.boolean(),
  })
  .meta({ id: 'CurrentUser' });
const SessionSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string(),
  userAgent: z.string().nullable(),
  current: z.boolean().describe('The session of the access token making this request'),
});

function sendTokens(res: Response, tokens: TokenPair, status = 200): void {
  res.setHeader('Cache-Control', 'no-store');
  res.status(status).json({
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    tokenType: tokens.tokenType,
    expiresIn: tokens.expiresIn,
  });
}

/** Registration, sign-in (with two-factor), token refresh, sign-out, password reset, sessions. */
export function authRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;

  api.add(
    {
      method: 'post',
      path: '/auth/register',
      operationId: 'register',
      summary: 'Create a student or instructor account and sign in',
      tags: ['auth'],
      auth: 'public',
      rateLimit: 'auth',
      body: RegisterBody,
      responses: {
        201: { description: 'Created and signed in', schema: TokenPairSchema.extend({ user: CurrentUserSchema }) },
        409: { description: 'An account with this email already exists (`field: email`)' },
      },
    },
    async (req, res) => {
      const input = RegisterBody.parse(req.body);
      const { user, tokens } = await register(db, input, callerOf(req), deps.auth);
      res.setHeader('Cache-Control', 'no-store');
      res.status(201).json({
        user,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        tokenType: tokens.tokenType,
        expiresIn: tokens.expiresIn,
      });
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/login',
      operationId: 'login',
      summary: 'Sign in with email and password',
      tags: ['auth'],
      auth: 'public',
      rateLimit: 'auth',
      body: LoginBody,
      responses: {
        200: { description: 'Tokens, or a two-factor challenge', schema: z.union([TokenPairSchema, ChallengeSchema]) },
        401: { description: 'Wrong email or password' },
        429: { description: 'Too many attempts from this network for this account: wait `Retry-After` seconds' },
      },
    },
    async (req, res) => {
      const input = LoginBody.parse(req.body);
      const result = await login(db, input, callerOf(req), deps.auth);
      if (result.requires2fa) {
        res.setHeader('Cache-Control', 'no-store');
        res.json({ requires2fa: true, challengeToken: result.challengeToken });
        return;
      }
      sendTokens(res, result.tokens);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/2fa/verify',
      operationId: 'verifyTwoFactor',
      summary: 'Finish signing in with a TOTP code or a backup code',
      tags: ['auth'],
      auth: 'public',
      rateLimit: 'auth',
      body: TwoFactorVerifyBody,
      responses: { 200: { description: 'Signed in', schema: TokenPairSchema } },
    },
    async (req, res) => {
      const input = TwoFactorVerifyBody.parse(req.body);
      sendTokens(res, await verifyTwoFactorLogin(db, input, callerOf(req), deps.auth));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/refresh',
      operationId: 'refreshTokens',
      summary: 'Trade a refresh token for new tokens (the old refresh token stops working)',
      tags: ['auth'],
      auth: 'public',
      rateLimit: 'auth',
      body: RefreshBody,
      responses: { 200: { description: 'New tokens', schema: TokenPairSchema } },
    },
    async (req, res) => {
      const { refreshToken } = RefreshBody.parse(req.body);
      sendTokens(res, await refreshSession(db, refreshToken, callerOf(req), deps.auth));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/logout',
      operationId: 'logout',
      summary: 'Sign out the session of the refresh token and/or of the access token used',
      tags: ['auth'],
      auth: 'public',
      body: LogoutBody,
      responses: { 204: { description: 'Signed out' } },
    },
    async (req, res) => {
      const input = LogoutBody.parse(req.body ?? {});
      await logout(db, input, req.principal, callerOf(req), deps.auth);
      res.status(204).end();
    },
  );

  api.add(
    {
      method: 'get',
      path: '/auth/me',
      operationId: 'getCurrentUser',
      summary: 'The signed-in user, roles and permissions',
      tags: ['auth'],
      auth: { permission: 'profile:read:own' },
      responses: { 200: { description: 'You', schema: CurrentUserSchema } },
    },
    requirePermission('profile:read:own'),
    async (req, res) => {
      const user = requireUser(req.principal);
      res.setHeader('Cache-Control', 'no-store');
      res.json(await getCurrentUser(db, user.userId, deps.auth.rolePermissions));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/auth/sessions',
      operationId: 'listSessions',
      summary: 'Your signed-in sessions (devices)',
      tags: ['auth'],
      auth: { permission: 'profile:read:own' },
      responses: { 200: { description: 'Active sessions, most recently used first', schema: pageOf(SessionSchema) } },
    },
    requirePermission('profile:read:own'),
    async (req, res) => {
      const user = requireUser(req.principal);
      const items = await findSessions(db, user.userId, user.sessionId ?? null, deps.clock.now());
      res.setHeader('Cache-Control', 'no-store');
      res.json({ items, nextCursor: null });
    },
  );

  api.add(
    {
      method: 'delete',
      path: '/auth/sessions/:id',
      operationId: 'revokeSession',
      summary: 'Sign out one of your sessions',
      tags: ['auth'],
      auth: { permission: 'profile:update:own' },
      params: SessionParams,
      responses: { 204: { description: 'Signed out' }, 404: { description: 'No such session of yours' } },
    },
    requirePermission('profile:update:own'),
    async (req, res) => {
      const user = requireUser(req.principal);
      const { id } = SessionParams.parse(req.params);
      await revokeSession(db, user.userId, id, callerOf(req), deps.clock.now());
      res.status(204).end();
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/2fa/setup',
      operationId: 'setupTwoFactor',
      summary: 'Start turning on two-factor authentication: a secret for your authenticator app',
      tags: ['auth'],
      auth: { permission: 'profile:update:own' },
      rateLimit: 'auth',
      body: TwoFactorSetupBody,
      responses: {
        200: {
          description: 'The secret (also as an otpauth:// URI for a QR code); confirm with /auth/2fa/enable',
          schema: z.object({ secret: z.string(), otpauthUri: z.string() }),
        },
      },
    },
    requirePermission('profile:update:own'),
    async (req, res) => {
      const user = requireUser(req.principal);
      const { password } = TwoFactorSetupBody.parse(req.body);
      const setup = await setupTwoFactor(db, user.userId, password, callerOf(req), deps.auth);
      res.setHeader('Cache-Control', 'no-store');
      res.json(setup);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/2fa/enable',
      operationId: 'enableTwoFactor',
      summary: 'Turn on two-factor authentication with a code from the app; returns backup codes once',
      tags: ['auth'],
      auth: { permission: 'profile:update:own' },
      rateLimit: 'auth',
      body: TwoFactorEnableBody,
      responses: {
        200: {
          description: 'On. Store the eight single-use backup codes: they are not shown again',
          schema: z.object({ backupCodes: z.array(z.string()) }),
        },
      },
    },
    requirePermission('profile:update:own'),
    async (req, res) => {
      const user = requireUser(req.principal);
      const { code } = TwoFactorEnableBody.parse(req.body);
      const result = await enableTwoFactor(db, user.userId, code, callerOf(req), deps.auth);
      res.setHeader('Cache-Control', 'no-store');
      res.json(result);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/2fa/disable',
      operationId: 'disableTwoFactor',
      summary: 'Turn off two-factor authentication (password and a code or backup code)',
      tags: ['auth'],
      auth: { permission: 'profile:update:own' },
      rateLimit: 'auth',
      body: TwoFactorDisableBody,
      responses: { 204: { description: 'Off; backup codes deleted' } },
    },
    requirePermission('profile:update:own'),
    async (req, res) => {
      const user = requireUser(req.principal);
      const input = TwoFactorDisableBody.parse(req.body);
      await disableTwoFactor(db, user.userId, input, callerOf(req), deps.auth);
      res.status(204).end();
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/password-reset/request',
      operationId: 'requestPasswordReset',
      summary: 'E-mail a password-reset link (same answer whether or not the account exists)',
      tags: ['auth'],
      auth: 'public',
      rateLimit: 'password_reset',
      body: PasswordResetRequestBody,
      responses: {
        202: {
          description: 'Accepted',
          schema: z.object({ detail: z.string() }),
        },
      },
    },
    async (req, res) => {
      const { email } = PasswordResetRequestBody.parse(req.body);
      await requestPasswordReset(db, email, callerOf(req), deps.auth);
      res.status(202).json({ detail: 'If an account uses this address, a reset link is on its way. It works once, within an hour.' });
    },
  );

  api.add(
    {
      method: 'post',
      path: '/auth/password-reset/confirm',
      operationId: 'confirmPasswordReset',
      summary: 'Set a new password with the token from the reset e-mail; signs out every session',
      tags: ['auth'],
      auth: 'public',
      rateLimit: 'password_reset',
      body: PasswordResetConfirmBody,
      responses: { 204: { description: 'Password changed' } },
    },
    async (req, res) => {
      const input = PasswordResetConfirmBody.parse(req.body);
      await confirmPasswordReset(db, input, callerOf(req), deps.auth);
      res.status(204).end();
    },
  );
}
