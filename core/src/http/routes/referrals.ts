import { z } from 'zod';
import {
  attributeReferral,
  findReferrals,
  getMyReferrals,
  type ReferralAttribution,
  type ReferralListItem,
  reviewReferral,
} from '../../referrals/index.ts';
import { CursorParam, LimitParam } from '../../shared/pagination.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { pageOf } from '../schemas.ts';

const ATTRIBUTION_STATUSES = ['attributed', 'held', 'qualified', 'rejected'] as const;
const FingerprintHash = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16,128}$/, 'Send the hash of the device fingerprint (16–128 url-safe characters), never the raw data');

const MyReferralsQuery = z
  .object({ deviceFingerprintHash: FingerprintHash.optional().describe('Hash of this device’s fingerprint (self-referral rule)') })
  .strict();

export const AttributeReferralBody = z
  .object({
    code: z.string().trim().min(4).max(32).describe('The referral code you were given'),
    deviceFingerprintHash: FingerprintHash.optional().describe('Hash of this device’s fingerprint (self-referral rule)'),
  })
  .strict();

const AttributionSchema = z
  .object({
    id: z.string(),
    code: z.string(),
    referrerId: z.string(),
    referredId: z.string(),
    kind: z.enum(['student', 'instructor']),
    status: z
      .enum(ATTRIBUTION_STATUSES)
      .describe('attributed: waiting for the first lesson; held: under review; rejected: a fraud rule matched'),
    flagged: z.boolean(),
    flagReason: z.string().nullable(),
    rejectionReason: z.string().nullable().describe('self_referral_device | self_referral_ip | self_referral_card | rejected_on_review'),
    attributedAt: z.string(),
    qualifiedAt: z.string().nullable(),
    qualifyingBookingId: z.string().nullable(),
  })
  .meta({ id: 'ReferralAttribution' });

const MyReferralsSchema = z
  .object({
    code: z.string(),
    stats: z.object({
      attributed: z.number().int(),
      qualified: z.number().int(),
      heldForReview: z.number().int(),
      rejected: z.number().int(),
      pendingCents: z.number().int(),
      unlockedCents: z.number().int(),
      paidCents: z.number().int(),
      remainingStudentRewards: z.number().int(),
    }),
    terms: z.object({
      studentReferrerRewardCents: z.number().int(),
      studentReferredRewardCents: z.number().int(),
      minimumFirstLessonCents: z.number().int(),
      holdDays: z.number().int(),
      rewardExpiryMonths: z.number().int(),
      maxRewardsPerReferrer: z.number().int(),
      instructorRewardCents: z.number().int(),
    }),
  })
  .meta({ id: 'MyReferrals' });

const ReferralListQuery = z
  .object({
    status: z.enum(ATTRIBUTION_STATUSES).optional(),
    flagged: z.enum(['true', 'false']).optional().describe('Only flagged (fraud rule or velocity) or only clean attributions'),
    referrerId: z.string().min(1).max(64).optional(),
    limit: LimitParam,
    cursor: CursorParam,
  })
  .strict();

const ReferralListItemSchema = AttributionSchema.extend({
  referrerName: z.string(),
  referredName: z.string(),
  deviceFingerprintHash: z.string().nullable(),
  ipHash: z.string().nullable(),
  cardFingerprint: z.string().nullable(),
  reviewedAt: z.string().nullable(),
  reviewedBy: z.string().nullable(),
  provider: z.enum(['stripe', 'offline']).describe('The payment provider cash rewards are paid through'),
  offline: z.boolean().describe('True when no real money moves (the embedded offline provider)'),
  rewards: z.array(
    z.object({
      id: z.string(),
      role: z.string(),
      kind: z.string(),
      amountCents: z.number().int(),
      status: z.string().describe('pending | unlocked | void | paid'),
      holdUntil: z.string(),
      expiresAt: z.string(),
      blockedReason: z.string().nullable(),
      voidReason: z.string().nullable(),
      transferId: z.string().nullable(),
    }),
  ),
}).meta({ id: 'ReferralListItem' });

const ReferralIdParams = z.object({ id: z.string().min(1).max(64) }).strict();
const ReviewReferralBody = z
  .object({ decision: z.enum(['approve', 'reject']), note: z.string().trim().min(3).max(500).describe('Why, for the audit log') })
  .strict();

const iso = (value: Date | null) => value?.toISOString() ?? null;

function toAttributionResponse(attribution: ReferralAttribution) {
  return { ...attribution, attributedAt: attribution.attributedAt.toISOString(), qualifiedAt: iso(attribution.qualifiedAt) };
}

function toListItemResponse(item: ReferralListItem, provider: { name: 'stripe' | 'offline'; offline: boolean }) {
  return {
    ...toAttributionResponse(item),
    provider: provider.name,
    offline: provider.offline,
    reviewedAt: iso(item.reviewedAt),
    rewards: item.rewards.map((reward) => ({
      ...reward,
      holdUntil: reward.holdUntil.toISOString(),
      expiresAt: reward.expiresAt.toISOString(),
    })),
  };
}

/** Referral codes, attribution, and the staff review queue. */
export function referralRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;

  api.add(
    {
      method: 'get',
      path: '/referrals/me',
      operationId: 'getMyReferrals',
      summary: 'Your referral code, what it earns, and how your referrals are doing',
      tags: ['referrals'],
      auth: { permission: 'profile:read:own' },
      query: MyReferralsQuery,
      responses: { 200: { description: 'Your code and stats', schema: MyReferralsSchema } },
    },
    requirePermission('profile:read:own'),
    async (req, res) => {
      const query = MyReferralsQuery.parse(req.query);
      res.setHeader('Cache-Control', 'private, no-store');
      res.json(await getMyReferrals(db, req.auditContext, query, deps));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/referrals/attribute',
      operationId: 'attributeReferral',
      summary: 'Apply the referral code you signed up with (within 30 days, before your first completed lesson)',
      tags: ['referrals'],
      auth: { permission: 'profile:update:own' },
      body: AttributeReferralBody,
      responses: {
        200: { description: 'You had already applied this code', schema: AttributionSchema },
        201: {
          description: 'Recorded: attributed, held for review, or rejected by a fraud rule (see status and rejectionReason)',
          schema: AttributionSchema,
        },
      },
    },
    requirePermission('profile:update:own'),
    async (req, res) => {
      const body = AttributeReferralBody.parse(req.body);
      const { attribution, created } = await attributeReferral(db, req.auditContext, body, deps);
      res.status(created ? 201 : 200).json(toAttributionResponse(attribution));
    },
  );

  api.add(
    {
      method: 'get',
      path: '/admin/referrals',
      operationId: 'listReferrals',
      summary: 'Referral attributions with their rewards, newest first (fraud review)',
      tags: ['admin', 'referrals'],
      auth: { permission: 'payments:read:any' },
      query: ReferralListQuery,
      responses: { 200: { description: 'A page of attributions', schema: pageOf(ReferralListItemSchema) } },
    },
    requirePermission('payments:read:any'),
    async (req, res) => {
      const query = ReferralListQuery.parse(req.query);
      const page = await findReferrals(db, { ...query, flagged: query.flagged === undefined ? undefined : query.flagged === 'true' });
      res.setHeader('Cache-Control', 'private, no-store');
      res.json({ items: page.items.map((item) => toListItemResponse(item, deps.payments)), nextCursor: page.nextCursor });
    },
  );

  api.add(
    {
      method: 'post',
      path: '/admin/referrals/:id/review',
      operationId: 'reviewReferral',
      summary: 'Approve or reject a referral held for review (velocity rule)',
      tags: ['admin', 'referrals'],
      auth: { permission: 'credits:adjust' },
      params: ReferralIdParams,
      body: ReviewReferralBody,
      responses: { 200: { description: 'The attribution after the decision', schema: AttributionSchema } },
    },
    requirePermission('credits:adjust'),
    async (req, res) => {
      const { id } = ReferralIdParams.parse(req.params);
      const body = ReviewReferralBody.parse(req.body);
      res.json(toAttributionResponse(await reviewReferral(db, req.auditContext, id, body, deps)));
    },
  );
}
