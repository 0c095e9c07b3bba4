import { type DB, newId } from '@instainstru/db';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { type AuditContext, recordAudit } from '../audit/record-audit.ts';
import { AppError } from '../shared/errors.ts';
import { decodeCursor, encodeCursor } from '../shared/pagination.ts';
import { normalizePhrase } from './normalize.ts';

export const ALIAS_STATUSES = ['approved', 'pending', 'rejected'] as const;
export const ALIAS_SOURCES = ['seeded', 'learned', 'llm', 'admin'] as const;
export type AliasStatus = (typeof ALIAS_STATUSES)[number];

export interface RegionAlias {
  id: string;
  phrase: string;
  regions: Array<{ slug: string; name: string | null; id: string | null }>;
  source: string;
  status: string;
  evidence: { searches: number; clicks: number; clickShare: number | null };
  createdAt: string;
  createdBy: string | null;
  reviewedAt: string | null;
  reviewedBy: string | null;
  reviewNote: string | null;
}

type AliasRow = {
  id: string;
  phrase: string;
  regionSlugs: string[];
  source: string;
  status: string;
  searchCount: number;
  clickCount: number;
  clickShare: string | null;
  createdAt: Date;
  createdBy: string | null;
  reviewedAt: Date | null;
  reviewedBy: string | null;
  reviewNote: string | null;
};

async function regionNames(db: Kysely<DB>, slugs: readonly string[]): Promise<Map<string, { id: string; name: string }>> {
  if (slugs.length === 0) return new Map();
  const rows = await db
    .selectFrom('regions')
    .where('slug', 'in', [...new Set(slugs)])
    .select(['id', 'slug', 'name'])
    .execute();
  return new Map(rows.map((row) => [row.slug, { id: row.id, name: row.name }]));
}

function toAlias(row: AliasRow, names: Map<string, { id: string; name: string }>): RegionAlias {
  return {
    id: row.id,
    phrase: row.phrase,
    regions: row.regionSlugs.map((slug) => ({ slug, name: names.get(slug)?.name ?? null, id: names.get(slug)?.id ?? null })),
    source: row.source,
    status: row.status,
    evidence: { searches: row.searchCount, clicks: row.clickCount, clickShare: row.clickShare === null ? null : Number(row.clickShare) },
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    reviewedAt: row.reviewedAt?.toISOString() ?? null,
    reviewedBy: row.reviewedBy,
    reviewNote: row.reviewNote,
  };
}

const ALIAS_COLUMNS = [
  'id',
  'phrase',
  'regionSlugs',
  'source',
  'status',
  'searchCount',
  'clickCount',
  'clickShare',
  'createdAt',
  'createdBy',
  'reviewedAt',
  'reviewedBy',
  'reviewNote',
] as const;

const AliasCursor = z.object({ id: z.string() });

/** The alias review queue and catalogue: newest first, filterable by status, source and phrase. */
export async function findRegionAliases(
  db: Kysely<DB>,
  input: {
    status?: AliasStatus | undefined;
    source?: string | undefined;
    phrase?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<{ items: RegionAlias[]; nextCursor: string | null; total: number }> {
  const after = decodeCursor(input.cursor, AliasCursor);
  const contains = input.phrase ? `%${normalizePhrase(input.phrase).replace(/[%_\\]/g, (ch) => `\\${ch}`)}%` : null;
  let filtered = db.selectFrom('regionAliases');
  if (input.status) filtered = filtered.where('status', '=', input.status);
  if (input.source) filtered = filtered.where('source', '=', input.source);
  if (contains) filtered = filtered.where('phrase', 'like', contains);
  let pageQuery = filtered
    .select([...ALIAS_COLUMNS])
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (after) pageQuery = pageQuery.where('id', '<', after.id);
  const [rows, total] = await Promise.all([
    pageQuery.execute(),
    filtered.select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  const page = rows.slice(0, input.limit);
  const names = await regionNames(
    db,
    page.flatMap((row) => row.regionSlugs),
  );
  const last = page[page.length - 1];
  return {
    items: page.map((row) => toAlias(row, names)),
    nextCursor: rows.length > input.limit && last ? encodeCursor({ id: last.id }) : null,
    total: total.n,
  };
}

async function checkSlugs(db: Kysely<DB>, slugs: readonly string[]): Promise<void> {
  const known = await regionNames(db, slugs);
  const unknown = slugs.filter((slug) => !known.has(slug));
  if (unknown.length > 0) throw new AppError('invalid_reference', `Unknown region slug: ${unknown.join(', ')}.`, 'regionSlugs');
}

/** An admin adds an alias directly (approved). Audited. */
export async function createRegionAlias(
  db: Kysely<DB>,
  context: AuditContext,
  input: { phrase: string; regionSlugs: string[]; note?: string | undefined },
  now: Date,
): Promise<RegionAlias> {
  const phrase = normalizePhrase(input.phrase);
  if (!phrase) throw new AppError('validation_error', 'The phrase needs at least one letter or digit.', 'phrase');
  const slugs = [...new Set(input.regionSlugs)];
  await checkSlugs(db, slugs);
  const actor =
    context.principal.kind === 'user'
      ? context.principal.userId
      : context.principal.kind === 'service'
        ? context.principal.serviceId
        : null;
  const row = await db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('regionAliases').where('phrase', '=', phrase).select('id').executeTakeFirst();
    if (existing)
      throw new AppError(
        'already_exists',
        `An alias for “${phrase}” exists already (${existing.id}); approve or reject that one.`,
        'phrase',
      );
    const created = await trx
      .insertInto('regionAliases')
      .values({
        id: newId(),
        phrase,
        regionSlugs: slugs,
        source: 'admin',
        status: 'approved',
        createdAt: now,
        createdBy: actor,
        reviewedAt: now,
        reviewedBy: actor,
        reviewNote: input.note ?? null,
        updatedAt: now,
      })
      .returning([...ALIAS_COLUMNS])
      .executeTakeFirstOrThrow();
    await recordAudit(trx, context, {
      action: 'search.alias.create',
      resourceType: 'region_alias',
      resourceId: created.id,
      after: { phrase, regionSlugs: slugs, status: 'approved' },
      reason: input.note ?? null,
    });
    return created;
  });
  return toAlias(row, await regionNames(db, row.regionSlugs));
}

/**
 * Approves (optionally with corrected regions) or rejects an alias. A rejected phrase is never
 * proposed again by learning or the LLM tier. Audited with before and after.
 */
export async function reviewRegionAlias(
  db: Kysely<DB>,
  context: AuditContext,
  input: { id: string; decision: 'approve' | 'reject'; regionSlugs?: string[] | undefined; note?: string | undefined },
  now: Date,
): Promise<RegionAlias> {
  const status: AliasStatus = input.decision === 'approve' ? 'approved' : 'rejected';
  if (input.regionSlugs) await checkSlugs(db, input.regionSlugs);
  const actor =
    context.principal.kind === 'user'
      ? context.principal.userId
      : context.principal.kind === 'service'
        ? context.principal.serviceId
        : null;
  const row = await db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('regionAliases')
      .where('id', '=', input.id)
      .select([...ALIAS_COLUMNS])
      .forUpdate()
      .executeTakeFirst();
    if (!before) throw new AppError('not_found', 'That alias was not found.', 'id');
    if (before.status === status && !input.regionSlugs) {
      throw new AppError('conflict', `This alias is already ${status}.`, null);
    }
    const regionSlugs = input.regionSlugs ? [...new Set(input.regionSlugs)] : before.regionSlugs;
    const after = await trx
      .updateTable('regionAliases')
      .set({ status, regionSlugs, reviewedAt: now, reviewedBy: actor, reviewNote: input.note ?? null, updatedAt: now })
      .where('id', '=', input.id)
      .returning([...ALIAS_COLUMNS])
      .executeTakeFirstOrThrow();
    await recordAudit(trx, context, {
      action: `search.alias.${input.decision}`,
      resourceType: 'region_alias',
      resourceId: input.id,
      before: { phrase: before.phrase, regionSlugs: before.regionSlugs, status: before.status, source: before.source },
      after: { phrase: after.phrase, regionSlugs: after.regionSlugs, status: after.status },
      reason: input.note ?? null,
    });
    return after;
  });
  return toAlias(row, await regionNames(db, row.regionSlugs));
}
