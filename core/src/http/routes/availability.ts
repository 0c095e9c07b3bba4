import type { Request, Response } from 'express';
import { z } from 'zod';
import { applyPattern, applyPreset } from '../../availability/apply-pattern.ts';
import { addBlackout, findBlackouts, removeBlackout } from '../../availability/blackouts.ts';
import { clearWeek } from '../../availability/clear-week.ts';
import { copyWeek } from '../../availability/copy-week.ts';
import { type AvailabilityWeek, getWeek } from '../../availability/get-week.ts';
import { AVAILABILITY_PRESET_IDS, AVAILABILITY_PRESETS } from '../../availability/presets.ts';
import { type AvailabilityActor, saveWeek, type WeekWriteResult } from '../../availability/save-week.ts';
import { requireUser } from '../../auth/principal.ts';
import type { ApiDeps } from '../deps.ts';
import type { ApiRouter } from '../openapi/route.ts';
import { requirePermission } from '../require-permission.ts';
import { invalidateAvailability } from './public-availability.ts';

const PERMISSION = 'availability:manage:own';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'Use a date like 2027-03-15');
const ClockTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'Use a time like 09:30 (00:00–24:00)');

const TimeRangeSchema = z
  .object({
    start: ClockTime.describe('Local wall-clock start, HH:MM'),
    end: ClockTime.describe('Local wall-clock end, exclusive, HH:MM (24:00 = midnight at the end of the day)'),
  })
  .strict()
  .meta({ id: 'AvailabilityTimeRange' });
const Ranges = z.array(TimeRangeSchema).max(200);

const DayRangesSchema = z
  .object({
    day: Day.describe('Local day (America/New_York)'),
    ranges: Ranges.describe('Open ranges; overlapping ones merge; [] closes the day'),
  })
  .strict()
  .meta({ id: 'AvailabilityDay' });

const PatternSchema = z
  .object({ mon: Ranges, tue: Ranges, wed: Ranges, thu: Ranges, fri: Ranges, sat: Ranges, sun: Ranges })
  .strict()
  .describe('Open ranges for each weekday; all seven are required ([] closes that weekday)')
  .meta({ id: 'WeeklyPattern' });

const WeekParams = z.object({ weekStart: Day.describe('Monday of the week') }).strict();
const DayParams = z.object({ day: Day.describe('Local day') }).strict();

const IfMatchRequired = z.object({ 'If-Match': z.string().describe('The ETag of the week as you loaded it') }).strict();
const IfMatchOptional = z
  .object({ 'If-Match': z.string().optional().describe('The ETag of the target week; when sent and stale, 409 and nothing is written') })
  .strict();

export const SaveWeekBody = z
  .object({
    days: z.array(DayRangesSchema).max(7).describe('Days of this week to replace; days you leave out stay as they are'),
  })
  .strict();
export const CopyWeekBody = z.object({ toWeekStart: Day.describe('Monday of the week to copy into') }).strict();
export const ApplyPresetBody = z.object({ preset: z.enum(AVAILABILITY_PRESET_IDS) }).strict();
export const ApplyPatternBody = z
  .object({
    from: Day.describe('First local day, today or later'),
    to: Day.describe('Last local day, inclusive; at most 365 days'),
    pattern: PatternSchema,
  })
  .strict();
export const AddBlackoutBody = z.object({ day: Day, reason: z.string().max(200).nullable().optional() }).strict();
export const BlackoutsQuery = z
  .object({ from: Day.optional().describe('Default today'), to: Day.optional().describe('Default from + 365 days') })
  .strict();

const BlackoutSchema = z.object({ day: z.string(), reason: z.string().nullable() }).meta({ id: 'Blackout' });

const WeekResponse = z
  .object({
    weekStart: z.string(),
    days: z.array(DayRangesSchema).length(7),
    blackouts: z.array(BlackoutSchema).describe('Days of this week closed whatever their ranges say'),
    etag: z.string().describe('Same as the ETag header; send it back as If-Match'),
    lastModifiedAt: z.string().nullable(),
  })
  .meta({ id: 'AvailabilityWeek' });

const WeekWriteResponse = WeekResponse.extend({
  changedDays: z.array(z.string()).describe('Days this request changed (the only rows written)'),
  skippedPastDays: z.array(z.string()).describe('Past days of the week a week-wide operation left as they were'),
}).meta({ id: 'AvailabilityWeekWrite' });

const ApplyPatternResponse = z.object({ from: z.string(), to: z.string(), changedDays: z.array(z.string()) });
const PresetsResponse = z.object({
  items: z.array(z.object({ id: z.enum(AVAILABILITY_PRESET_IDS), label: z.string(), description: z.string(), pattern: PatternSchema })),
});
const BlackoutsResponse = z.object({ from: z.string(), to: z.string(), items: z.array(BlackoutSchema) });

function actorOf(req: Request): AvailabilityActor {
  return { instructorId: requireUser(req.principal).userId, audit: req.auditContext };
}

function sendWeek(res: Response, week: AvailabilityWeek | WeekWriteResult): void {
  res.setHeader('ETag', week.etag);
  if (week.lastModifiedAt) res.setHeader('Last-Modified', week.lastModifiedAt.toUTCString());
  res.setHeader('Cache-Control', 'private, no-cache');
  res.json({ ...week, lastModifiedAt: week.lastModifiedAt?.toISOString() ?? null });
}

/** An instructor editing their own availability: weeks, patterns, presets and blackout days. */
export function availabilityRoutes(api: ApiRouter, deps: ApiDeps): void {
  const db = deps.database.db;
  const domainDeps = { clock: deps.clock };
  const auth = { permission: PERMISSION };
  const guard = requirePermission(PERMISSION);
  const tags = ['availability'];

  api.add(
    {
      method: 'get',
      path: '/instructors/me/availability/weeks/:weekStart',
      operationId: 'getMyAvailabilityWeek',
      summary: 'Your open hours for one week (Monday to Sunday), with its ETag',
      tags,
      auth,
      params: WeekParams,
      responses: { 200: { description: 'The week; ETag and Last-Modified headers', schema: WeekResponse } },
    },
    guard,
    async (req, res) => {
      const { weekStart } = WeekParams.parse(req.params);
      sendWeek(res, await getWeek(db, actorOf(req).instructorId, weekStart));
    },
  );

  api.add(
    {
      method: 'put',
      path: '/instructors/me/availability/weeks/:weekStart',
      operationId: 'saveMyAvailabilityWeek',
      summary: 'Save a week: the days you send are replaced, the others stay; If-Match required (409 when stale)',
      tags,
      auth,
      params: WeekParams,
      headers: IfMatchRequired,
      body: SaveWeekBody,
      responses: { 200: { description: 'The saved week and its new ETag', schema: WeekWriteResponse } },
    },
    guard,
    async (req, res) => {
      const { weekStart } = WeekParams.parse(req.params);
      const body = SaveWeekBody.parse(req.body);
      const actor = actorOf(req);
      const week = await saveWeek(db, actor, { weekStart, ifMatch: req.get('if-match'), days: body.days }, domainDeps);
      await invalidateAvailability(deps, actor.instructorId);
      sendWeek(res, week);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/instructors/me/availability/weeks/:weekStart/copy',
      operationId: 'copyMyAvailabilityWeek',
      summary: 'Copy this week onto another week (past days of the target are left alone)',
      tags,
      auth,
      params: WeekParams,
      headers: IfMatchOptional,
      body: CopyWeekBody,
      responses: { 200: { description: 'The target week', schema: WeekWriteResponse } },
    },
    guard,
    async (req, res) => {
      const { weekStart } = WeekParams.parse(req.params);
      const { toWeekStart } = CopyWeekBody.parse(req.body);
      const actor = actorOf(req);
      const week = await copyWeek(db, actor, { fromWeekStart: weekStart, toWeekStart, ifMatch: req.get('if-match') }, domainDeps);
      await invalidateAvailability(deps, actor.instructorId);
      sendWeek(res, week);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/instructors/me/availability/weeks/:weekStart/clear',
      operationId: 'clearMyAvailabilityWeek',
      summary: 'Close every day of the week from today on',
      tags,
      auth,
      params: WeekParams,
      headers: IfMatchOptional,
      responses: { 200: { description: 'The cleared week', schema: WeekWriteResponse } },
    },
    guard,
    async (req, res) => {
      const { weekStart } = WeekParams.parse(req.params);
      const actor = actorOf(req);
      const week = await clearWeek(db, actor, { weekStart, ifMatch: req.get('if-match') }, domainDeps);
      await invalidateAvailability(deps, actor.instructorId);
      sendWeek(res, week);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/instructors/me/availability/weeks/:weekStart/apply-preset',
      operationId: 'applyMyAvailabilityPreset',
      summary: 'Replace the week with a preset schedule (past days are left alone)',
      tags,
      auth,
      params: WeekParams,
      headers: IfMatchOptional,
      body: ApplyPresetBody,
      responses: { 200: { description: 'The week with the preset applied', schema: WeekWriteResponse } },
    },
    guard,
    async (req, res) => {
      const { weekStart } = WeekParams.parse(req.params);
      const { preset } = ApplyPresetBody.parse(req.body);
      const actor = actorOf(req);
      const week = await applyPreset(db, actor, { weekStart, preset, ifMatch: req.get('if-match') }, domainDeps);
      await invalidateAvailability(deps, actor.instructorId);
      sendWeek(res, week);
    },
  );

  api.add(
    {
      method: 'post',
      path: '/instructors/me/availability/apply-pattern',
      operationId: 'applyMyAvailabilityPattern',
      summary: 'Apply a weekly pattern to every day of a date range (at most 365 days, none in the past)',
      tags,
      auth,
      body: ApplyPatternBody,
      responses: { 200: { description: 'The days that changed', schema: ApplyPatternResponse } },
    },
    guard,
    async (req, res) => {
      const body = ApplyPatternBody.parse(req.body);
      const actor = actorOf(req);
      const result = await applyPattern(db, actor, body, domainDeps);
      await invalidateAvailability(deps, actor.instructorId);
      res.json(result);
    },
  );

  api.add(
    {
      method: 'get',
      path: '/availability/presets',
      operationId: 'listAvailabilityPresets',
      summary: 'Ready-made weekly schedules (weekdays 9–5, evenings, weekends)',
      tags,
      auth: 'public',
      responses: { 200: { description: 'The presets', schema: PresetsResponse } },
    },
    (_req, res) => {
      res.setHeader('Cache-Control', 'public, max-age=3600');
      res.json({ items: AVAILABILITY_PRESETS });
    },
  );

  api.add(
    {
      method: 'get',
      path: '/instructors/me/blackouts',
      operationId: 'listMyBlackouts',
      summary: 'Your blackout days (closed whatever your week says)',
      tags,
      auth,
      query: BlackoutsQuery,
      responses: { 200: { description: 'Blackout days in the range', schema: BlackoutsResponse } },
    },
    guard,
    async (req, res) => {
      const query = BlackoutsQuery.parse(req.query);
      res.json(await findBlackouts(db, actorOf(req).instructorId, query, domainDeps));
    },
  );

  api.add(
    {
      method: 'post',
      path: '/instructors/me/blackouts',
      operationId: 'addMyBlackout',
      summary: 'Close a day (today or later); 409 when it already is',
      tags,
      auth,
      body: AddBlackoutBody,
      responses: { 201: { description: 'The blackout day', schema: BlackoutSchema } },
    },
    guard,
    async (req, res) => {
      const body = AddBlackoutBody.parse(req.body);
      const actor = actorOf(req);
      const blackout = await addBlackout(db, actor, body, domainDeps);
      await invalidateAvailability(deps, actor.instructorId);
      res.status(201).json(blackout);
    },
  );

  api.add(
    {
      method: 'delete',
      path: '/instructors/me/blackouts/:day',
      operationId: 'removeMyBlackout',
      summary: 'Reopen a blackout day (today or later)',
      tags,
      auth,
      params: DayParams,
      responses: { 204: { description: 'Removed' } },
    },
    guard,
    async (req, res) => {
      const { day } = DayParams.parse(req.params);
      const actor = actorOf(req);
      await removeBlackout(db, actor, day, domainDeps);
      await invalidateAvailability(deps, actor.instructorId);
      res.status(204).end();
    },
  );
}
