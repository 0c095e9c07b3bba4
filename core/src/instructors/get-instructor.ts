import type { DB } from '@instainstru/db';
import type { Kysely } from 'kysely';
import { AppError } from '../shared/errors.ts';
import { findInstructors } from './find-instructors.ts';
import type { PublicInstructor } from './instructor.ts';

/** One live instructor's public profile with their offerings; 404 when missing or not live. */
export async function getInstructor(db: Kysely<DB>, instructorId: string): Promise<PublicInstructor> {
  const page = await findInstructors(db, { limit: 1, ids: [instructorId] });
  const instructor = page.items[0];
  if (!instructor) throw new AppError('not_found', 'Instructor was not found.', 'id');
  return instructor;
}
