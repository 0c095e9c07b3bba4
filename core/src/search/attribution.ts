import { sql, type RawBuilder } from 'kysely';

/**
 * Search → booking attribution, computed when read (nothing in the booking path knows about
 * search): a booking belongs to the latest result click on that instructor made in the
 * ATTRIBUTION_WINDOW_HOURS before the booking, by the booking's student — signed in, or from an
 * anonymous session that student later searched from while signed in. Bookings that were
 * cancelled without ever being confirmed (abandoned checkouts) do not count.
 */
export const ATTRIBUTION_WINDOW_HOURS = 72;

/**
 * A subquery of (booking_id, search_id, click_id, instructor_id, booked_at) for bookings made in
 * [from, to + window): use it inside a larger statement.
 */
export function attributedBookings(from: Date, to: Date): RawBuilder<unknown> {
  const horizon = new Date(to.getTime() + ATTRIBUTION_WINDOW_HOURS * 3_600_000);
  return sql`
    select distinct on (b.id) b.id as booking_id, c.search_id, c.id as click_id, b.instructor_id, b.created_at as booked_at
    from bookings b
    join search_clicks c on c.instructor_id = b.instructor_id
      and c.at <= b.created_at
      and c.at > b.created_at - make_interval(hours => ${ATTRIBUTION_WINDOW_HOURS})
      and (
        c.user_id = b.student_id
        or (c.user_id is null and c.session_id is not null and exists (
          select 1 from search_events e where e.session_id = c.session_id and e.user_id = b.student_id
        ))
      )
    where b.created_at >= ${from} and b.created_at < ${horizon}
      and (b.status <> 'cancelled' or b.confirmed_at is not null)
    order by b.id, c.at desc
  `;
}
