import { type DB, newId } from '@instainstru/db';
import { createTestDatabase, type TestDatabase } from '@instainstru/db/testing';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditContext } from '../src/audit/record-audit.ts';
import { userActor } from '../src/auth/principal.ts';
import { bookingAmounts, policySnapshot } from '../src/booking/booking.ts';
import { loadConfig } from '../src/config.ts';
import { JOBS } from '../src/jobs/definitions.ts';
import { createJobQueue, type JobQueue } from '../src/jobs/queue.ts';
import { checkoutBooking } from '../src/payments/checkout.ts';
import type { MoneyDeps } from '../src/payments/money-deps.ts';
import { lockBookingRowNowait, type MoneyLock } from '../src/payments/money-lock.ts';
import { savePaymentMethod } from '../src/payments/payment-methods/index.ts';
import { createPayoutOnboardingLink, getPayoutAccount } from '../src/payments/payout-accounts/index.ts';
import type { PaymentProvider } from '../src/payments/provider.ts';
import { createPaymentProvider } from '../src/payments/providers/index.ts';
import { advanceBookingPayment, advanceLocked } from '../src/payments/settle-booking.ts';
import { transferLocked } from '../src/payments/transfer.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { createCatalogService, createInstructor, createUser } from './support/factories.ts';
import { silentLogger, waitFor } from './support/jobs.ts';
import { type PaymentWorker, spawnPaymentWorker } from './support/payment-worker-child.ts';
import { startStripeFake, type StripeFake } from './support/stripe-fake.ts';

// R9 for money (spec/reliability-and-performance.md; I3, I5): 1,000 lessons that ended more than
// a day ago are captured and their instructors paid by real worker processes (what
// core/src/worker.ts starts) over real PostgreSQL and the Stripe fake (a local HTTP server). One
// worker is SIGKILLed while Stripe has executed some of its calls and not answered yet; settle
// jobs are delivered twice, some while the first delivery still runs; a replacement worker and
// the capture sweep finish the batch. Every capture, transfer, e-mail and timeline event must
// happen exactly once.
//
// The workers run WITHOUT Redis: the money lock is then the booking row lock plus the pending
// payment_operations claim (payments/money-lock.ts), the weakest configuration money must survive
// (an API and a worker sharing DATABASE_URL are already two processes). With Redis the lock of a
// SIGKILLed worker lives on for MONEY_LOCK_TTL_MS (2 minutes) by design, longer than this test.
//
// N = 1,000 (measured on the 2-CPU machine: 11–15 s of setup through the real onboarding, card,
// checkout and authorization code, then 24–40 s for the workers; the whole file 40–60 s).

const N = 1_000;
const SLOTS = 20; // lessons per instructor
const HOUR = 3_600_000;
const MINUTE = 60_000;

interface Booking {
  id: string;
  instructorId: string;
  studentId: string;
  /** Its capture fails for good: manual review, one e-mail, the payout advanced. */
  failing: boolean;
}

/** One database, Stripe fake and provider; lessons are booked at T0, days before the real now. */
interface World {
  database: TestDatabase;
  fake: StripeFake;
  clock: ReturnType<typeof fixedClock>;
  payments: PaymentProvider;
  deps: MoneyDeps;
  queue: JobQueue;
  T0: number;
}

async function createWorld(): Promise<World> {
  const T0 = Math.floor(Date.now() / HOUR) * HOUR - 120 * HOUR;
  const clock = fixedClock(new Date(T0));
  const database = await createTestDatabase();
  const fake = await startStripeFake({ clock });
  const queue = createJobQueue(database, { jobs: JOBS, logger: silentLogger, maintenance: false });
  await queue.start();
  const payments = createPaymentProvider(loadConfig({ NODE_ENV: 'test', ...fake.env }).payments, database.db, { clock });
  return { database, fake, clock, payments, deps: { payments, clock, jobs: queue, logger: silentLogger }, queue, T0 };
}

async function closeWorld(world: World | undefined): Promise<void> {
  await world?.queue.stop();
  await world?.fake.close();
  await world?.database.cleanup();
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next]!;
        next += 1;
        await work(item);
      }
    }),
  );
}

function caller(userId: string, role: 'student' | 'instructor'): AuditContext {
  return { principal: userActor(userId, [role]) };
}

async function countRows(db: Kysely<DB>, query: RawBuilder<{ n: number }>): Promise<number> {
  const { rows } = await query.execute(db);
  return rows[0]?.n ?? 0;
}

/**
 * Lessons that ended days ago, authorized at the Stripe fake through the real code: instructors
 * onboarded (payouts enabled unless `payoutsReady` is false), students with a saved card, bookings
 * held and checked out less than 24 h before they start (so authorized at checkout). Each
 * instructor teaches `slots` one-hour lessons 75 minutes apart; a student takes five in a row (the
 * fifth completed lesson earns loyalty credit). A `failing` lesson belongs to a student of its own;
 * its capture was declined at end + 24 h, +2 h, +8 h and +24 h (the real retry ladder, run here),
 * its last retry (+48 h) is due now, and its authorization has lapsed at the issuer, so that retry
 * fails too. Ends with the clock at the real now and no jobs queued.
 */
async function setUpLessons(
  world: World,
  options: { instructors: number; slots: number; failing: (instructor: number, slot: number) => boolean; payoutsReady?: boolean },
): Promise<{ bookings: Booking[]; intentOf: Map<string, string> }> {
  const { database, fake, clock, payments, deps, T0 } = world;
  const db = database.db;
  clock.set(new Date(T0));
  const serviceId = await createCatalogService(database);
  const instructors: Array<{ id: string; instructorServiceId: string; hourlyRateCents: number; feeBps: number }> = [];
  for (let j = 0; j < options.instructors; j += 1) {
    // odd hourly rates and every tier, so amounts have odd cents
    const hourlyRateCents = 9_000 + j * 137;
    const created = await createInstructor(database, { serviceId, hourlyRateCents, lastName: `I${j}` });
    instructors.push({
      id: created.id,
      instructorServiceId: created.instructorServiceId!,
      hourlyRateCents,
      feeBps: [1500, 1200, 1000, 800][j % 4]!,
    });
  }
  await inParallel(instructors, 8, async (instructor) => {
    const onboarding = { payments, clock, allowedReturnOrigins: ['http://localhost:3000'] };
    const link = await createPayoutOnboardingLink(db, caller(instructor.id, 'instructor'), {}, onboarding);
    if (options.payoutsReady === false) return;
    fake.completeOnboarding(link.account.accountId!);
    const account = await getPayoutAccount(db, caller(instructor.id, 'instructor'), onboarding);
    if (!account.payoutsEnabled) throw new Error(`payouts not enabled for ${instructor.id}`);
  });

  const bookings: Booking[] = [];
  const rows: Array<Record<string, unknown>> = [];
  const startOf = (slot: number) => T0 + HOUR + slot * 75 * MINUTE;
  const checkoutAt = (slot: number) => (slot < 10 ? T0 : T0 + 10 * HOUR); // always < 24 h before the lesson
  for (const [j, instructor] of instructors.entries()) {
    let student = '';
    for (let slot = 0; slot < options.slots; slot += 1) {
      const failing = options.failing(j, slot);
      if (slot % 5 === 0 || failing) student = await createUser(database, { firstName: 'S', lastName: `${j}-${slot}` });
      const id = newId();
      bookings.push({ id, instructorId: instructor.id, studentId: student, failing });
      rows.push({
        id,
        studentId: student,
        instructorId: instructor.id,
        serviceId,
        instructorServiceId: instructor.instructorServiceId,
        status: 'pending_payment',
        paymentStatus: 'scheduled',
        startsAt: new Date(startOf(slot)),
        endsAt: new Date(startOf(slot) + HOUR),
        durationMinutes: 60,
        locationType: 'online',
        holdExpiresAt: new Date(checkoutAt(slot) + 15 * MINUTE),
        hourlyRateCents: instructor.hourlyRateCents,
        ...bookingAmounts(instructor.hourlyRateCents, instructor.feeBps),
        policySnapshot: JSON.stringify(policySnapshot(instructor.feeBps, false)),
        createdAt: new Date(checkoutAt(slot) - MINUTE),
        updatedAt: new Date(checkoutAt(slot) - MINUTE),
      });
    }
  }
  for (let i = 0; i < rows.length; i += 250) {
    await db
      .insertInto('bookings')
      .values(rows.slice(i, i + 250) as never)
      .execute();
  }
  const students = [...new Set(bookings.map((booking) => booking.studentId))];
  await inParallel(students, 8, async (studentId) => {
    await savePaymentMethod(db, caller(studentId, 'student'), { paymentMethodId: 'pm_card_mastercard' }, { payments, clock });
  });

  for (const wave of [0, 1]) {
    clock.set(new Date(wave === 0 ? T0 : T0 + 10 * HOUR));
    const batch = bookings.filter((_booking, index) => Math.floor((index % options.slots) / 10) === wave);
    await inParallel(batch, 8, async (booking) => {
      const result = await checkoutBooking(db, caller(booking.studentId, 'student'), booking.id, {}, deps);
      if (result.outcome !== 'authorized') throw new Error(`checkout of ${booking.id}: ${result.outcome}`);
    });
  }

  const failing = bookings.filter((booking) => booking.failing);
  const firstCaptureAt = startOf(options.slots - 1) + HOUR + 24 * HOUR + 15 * MINUTE;
  for (const offset of [0, 2, 8, 24]) {
    clock.set(new Date(firstCaptureAt + offset * HOUR));
    for (const booking of failing) {
      fake.failCaptureNext({ declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' });
      const result = await advanceBookingPayment(db, deps, booking.id);
      if (!result.steps.includes('capture:failed')) throw new Error(`capture of ${booking.id} did not fail: ${result.steps.join()}`);
    }
  }
  clock.set(new Date());
  const intentOf = new Map<string, string>();
  for (const payment of await db.selectFrom('bookingPayments').select(['bookingId', 'paymentIntentId']).execute()) {
    intentOf.set(payment.bookingId, payment.paymentIntentId!);
  }
  for (const booking of failing) fake.expireAuthorization(intentOf.get(booking.id)!);
  // The checkouts' backup authorization jobs ran days ago in this story.
  await sql`delete from pgboss.job`.execute(db);
  return { bookings, intentOf };
}

/** Event types on a booking's timeline, with how many times each. */
async function timelineOf(db: Kysely<DB>, bookingId?: string): Promise<Map<string, Record<string, number>>> {
  const { rows } = await sql<{ bookingId: string; type: string; n: number }>`
    select booking_id, type, count(*)::int as n from booking_events
    where ${bookingId ?? null}::text is null or booking_id = ${bookingId ?? null}
    group by booking_id, type order by booking_id, type`.execute(db);
  const timeline = new Map<string, Record<string, number>>();
  for (const row of rows) timeline.set(row.bookingId, { ...timeline.get(row.bookingId), [row.type]: row.n });
  return timeline;
}

const HAPPY_TIMELINE = {
  checkout: 1,
  completed: 1,
  confirmed: 1,
  payment_authorized: 1,
  payment_captured: 1,
  payment_settled: 1,
  payout_transferred: 1,
};
const FAILING_TIMELINE = {
  checkout: 1,
  completed: 1,
  confirmed: 1,
  payment_authorized: 1,
  payment_capture_failed: 5,
  payment_manual_review: 1,
  payout_advanced: 1,
  student_account_locked: 1,
};

describe('R9: payments survive a SIGKILLed worker and duplicate delivery (PostgreSQL, Stripe fake, worker processes)', () => {
  let world: World;
  const workers: PaymentWorker[] = [];

  function startWorker(tag: string): PaymentWorker {
    const worker = spawnPaymentWorker(tag, {
      ...world.fake.env,
      NODE_ENV: 'test',
      DATABASE_URL: world.database.url!,
      REDIS_URL: undefined,
      PAYMENTS_PROVIDER: 'stripe',
      LOG_LEVEL: 'warn',
      JOBS_POLL_INTERVAL_MS: '100',
      JOBS_HEARTBEAT_INTERVAL_MS: '500',
      JOBS_SCHEDULER_TICK_MS: '1000',
      JOBS_MAINTENANCE_INTERVAL_SECONDS: '1',
      JOBS_SHUTDOWN_TIMEOUT_MS: '10000',
    });
    workers.push(worker);
    return worker;
  }

  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill('SIGKILL')));
    await closeWorld(world);
  });

  it('1,000 lessons captured and paid out, one worker SIGKILLed mid-batch, settle jobs delivered twice: each capture, transfer, e-mail and event exactly once', async () => {
    const { database, fake, queue } = world;
    const db = database.db;
    const setupStarted = Date.now();
    // On every other instructor the last lesson's payment fails for good.
    const { bookings, intentOf } = await setUpLessons(world, {
      instructors: N / SLOTS,
      slots: SLOTS,
      failing: (instructor, slot) => instructor % 2 === 0 && slot === SLOTS - 1,
    });
    const failing = bookings.filter((booking) => booking.failing);
    expect(fake.state.paymentIntents.size).toBe(N);
    expect(await countRows(db, sql<{ n: number }>`select count(*)::int as n from outbox`)).toBe(0);
    const setupSeconds = (Date.now() - setupStarted) / 1000;

    // ---- two worker processes; every booking's settle job sent, a quarter of them twice ----
    const runStarted = Date.now();
    const p = startWorker('p');
    const q = startWorker('q');
    await Promise.all([p.ready, q.ready]);
    await db.transaction().execute(async (trx) => {
      for (const [index, booking] of bookings.entries()) {
        await queue.send(trx, 'payments.settle-booking', { bookingId: booking.id });
        if (index % 4 === 0) await queue.send(trx, 'payments.settle-booking', { bookingId: booking.id });
      }
      await queue.send(trx, 'payments.capture-sweep', { schedule: 'payments.capture-sweep', slot: new Date().toISOString() });
    });

    const captures = () => fake.requests.filter((request) => /\/capture$/.test(request.path) && request.executed && !request.replayed);
    await waitFor(() => captures().length >= N / 4, { timeoutMs: 30_000, intervalMs: 20, what: 'a quarter of the captures' });
    // Stripe slows down: the next captures and transfers execute, but their answers take 4 s.
    // Once more calls hang than one worker makes at once (4 settle jobs + 1 sweep), both workers
    // have some: p dies with money moved at Stripe and not recorded here.
    fake.failNext(10, {
      kind: 'delay',
      when: 'after',
      delayMs: 4_000,
      method: 'POST',
      path: /^\/v1\/(payment_intents\/[^/]+\/capture|transfers)$/,
    });
    await waitFor(() => fake.requests.filter((request) => request.executed && request.status === 0).length >= 6, {
      timeoutMs: 15_000,
      intervalMs: 10,
      what: 'calls of both workers waiting for Stripe',
    });
    const capturedAtKill = captures().length;
    await p.kill('SIGKILL');
    const pendingAtKill = await countRows(
      db,
      sql<{ n: number }>`select count(*)::int as n from payment_operations where status = 'pending'`,
    );
    expect(pendingAtKill).toBeGreaterThan(0);
    expect(capturedAtKill).toBeLessThan(N);

    // pg-boss hands a dead worker's jobs to another once their expiry has passed (2 minutes for a
    // settle job, 15 for the capture sweep, which the dead worker may hold): the same mechanism,
    // with the expiry and retry delay of the jobs running now shortened to this test's scale. The
    // survivor's running jobs expire too and are delivered again while it still runs them.
    await sql`update pgboss.job set expire_in = interval '1 second', retry_delay = 0, retry_backoff = false
      where state = 'active'`.execute(db);
    const replacement = startWorker('p2');
    await replacement.ready;
    // Late duplicates of a third of the settle jobs, settled or not.
    await db.transaction().execute(async (trx) => {
      for (const [index, booking] of bookings.entries()) {
        if (index % 3 === 0) await queue.send(trx, 'payments.settle-booking', { bookingId: booking.id });
      }
    });
    const finished = async () =>
      (await countRows(
        db,
        sql<{ n: number }>`select count(*)::int as n from booking_payments bp join bookings b on b.id = bp.booking_id
          where bp.transferred_at is not null and b.payment_status in ('settled', 'manual_review')`,
      )) === N;
    // What the batch looks like, for a failure message.
    const progress = async () => {
      const { rows: money } = await sql<{ state: string; n: number }>`
        select b.status || '/' || b.payment_status || '/captured=' || (bp.captured_at is not null)
          || '/transferred=' || (bp.transferred_at is not null) as state, count(*)::int as n
        from bookings b join booking_payments bp on bp.booking_id = b.id group by 1 order by 1`.execute(db);
      const { rows: jobs } = await sql<{ state: string; n: number }>`
        select name || ':' || state as state, count(*)::int as n from pgboss.job
        where name like 'payments.%' group by 1 order by 1`.execute(db);
      return JSON.stringify({ money, jobs, workers: workers.map((worker) => `${worker.tag}: ${worker.output().slice(-300)}`) });
    };
    // The scheduler sends the capture sweep every 15 minutes; here as often as it can run.
    let sweeps = 0;
    const deadline = Date.now() + 60_000;
    while (!(await finished())) {
      if (Date.now() > deadline) throw new Error(`the batch did not finish within 60 s: ${await progress()}`);
      sweeps += 1;
      await queue.send(db, 'payments.capture-sweep', {
        schedule: 'payments.capture-sweep',
        slot: new Date(Date.now() + sweeps * MINUTE).toISOString(),
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // The duplicates still queued run too (they must change nothing), then the workers stop.
    await waitFor(
      async () =>
        (await countRows(
          db,
          sql<{ n: number }>`select count(*)::int as n from pgboss.job where name = 'payments.settle-booking' and state = 'created'`,
        )) === 0,
      { timeoutMs: 20_000, intervalMs: 200, what: 'the duplicates to be delivered' },
    );
    await Promise.all([q.kill('SIGTERM'), replacement.kill('SIGTERM')]);
    const runSeconds = (Date.now() - runStarted) / 1000;

    // ================= at Stripe: one capture per lesson, one transfer per instructor payout =================
    const byId = new Map(bookings.map((booking) => [booking.id, booking]));
    const paymentRows = await db.selectFrom('bookingPayments').selectAll().execute();
    const bookingRows = new Map((await db.selectFrom('bookings').selectAll().execute()).map((row) => [row.id, row]));
    const profiles = await db.selectFrom('instructorProfiles').select(['userId', 'stripeAccountId']).execute();
    const accountOf = new Map(profiles.map((row) => [row.userId, row.stripeAccountId]));
    const bookingOfIntent = new Map([...intentOf].map(([bookingId, intent]) => [intent, bookingId]));
    const captureExecutions = new Map<string, string[]>();
    for (const request of fake.requests) {
      const match = /^\/v1\/payment_intents\/([^/]+)\/capture$/.exec(request.path);
      if (!match || !request.executed || request.replayed) continue;
      const bookingId = bookingOfIntent.get(match[1]!)!;
      captureExecutions.set(bookingId, [...(captureExecutions.get(bookingId) ?? []), request.idempotencyKey ?? 'none']);
    }
    const keyOfTransfer = new Map(
      fake.events
        .filter((event) => event.type === 'transfer.created')
        .map((event) => [event.data.object.id, event.request.idempotency_key]),
    );
    const transfersOf = new Map<string, Array<{ id: string; amount: number; destination: string; key: string | null }>>();
    for (const transfer of fake.state.transfers.values()) {
      const bookingId = String(transfer.metadata.bookingId);
      const entry = {
        id: transfer.id,
        amount: transfer.amount,
        destination: transfer.destination,
        key: keyOfTransfer.get(transfer.id) ?? null,
      };
      transfersOf.set(bookingId, [...(transfersOf.get(bookingId) ?? []), entry]);
    }
    expect(fake.state.transfers.size).toBe(N);
    const stripeProblems: string[] = [];
    for (const payment of paymentRows) {
      const booking = byId.get(payment.bookingId)!;
      const row = bookingRows.get(payment.bookingId)!;
      const intent = fake.state.paymentIntents.get(payment.paymentIntentId!)!;
      const executed = captureExecutions.get(booking.id) ?? [];
      const transfers = transfersOf.get(booking.id) ?? [];
      if (booking.failing) {
        // four declined attempts during setup, the last one refused (lapsed): nothing captured
        if (executed.length !== 4 || intent.status !== 'canceled' || intent.amount_received !== 0)
          stripeProblems.push(`${booking.id}: captures ${executed.join(',')}, intent ${intent.status}`);
      } else if (executed.length !== 1 || intent.status !== 'succeeded' || intent.amount_received !== payment.cardAmountCents) {
        stripeProblems.push(`${booking.id}: captures ${executed.join(',')}, intent ${intent.status} ${intent.amount_received}`);
      }
      const expectedKey = booking.failing ? `advance-payout:${booking.id}:1` : `transfer:${booking.id}:1`;
      const [transfer, ...more] = transfers;
      if (
        !transfer ||
        more.length > 0 ||
        transfer.amount !== row.instructorPayoutCents ||
        transfer.destination !== accountOf.get(booking.instructorId) ||
        transfer.key !== expectedKey ||
        transfer.id !== payment.transferId
      ) {
        stripeProblems.push(`${booking.id}: transfers ${JSON.stringify(transfers)}, recorded ${payment.transferId}`);
      }
    }
    expect(stripeProblems).toEqual([]);
    const transferredAtStripe = [...fake.state.transfers.values()].reduce((sum, transfer) => sum + Number(transfer.amount), 0);
    const payoutsOwed = [...bookingRows.values()].reduce((sum, row) => sum + row.instructorPayoutCents, 0);
    expect(transferredAtStripe).toBe(payoutsOwed);
    expect(paymentRows.reduce((sum, payment) => sum + (payment.transferredCents ?? 0), 0)).toBe(payoutsOwed);
    // The SIGKILL left calls that Stripe executed and p never heard back from; another worker
    // finished them under the same key (Stripe replayed its answer instead of moving money again).
    const dropped = new Set(
      fake.requests.filter((request) => request.status === -1 && request.executed).map((request) => request.idempotencyKey),
    );
    const resumed = fake.requests.filter((request) => request.replayed && dropped.has(request.idempotencyKey));
    expect(resumed.length).toBeGreaterThan(0);

    // ================= our records: exactly the expected calls, none pending, none repeated =================
    const operations = await db
      .selectFrom('paymentOperations')
      .select(['bookingId', 'idempotencyKey', 'status'])
      .where('bookingId', 'is not', null)
      .orderBy('idempotencyKey')
      .execute();
    const operationsOf = new Map<string, string[]>();
    for (const operation of operations) {
      const key = operation.idempotencyKey.replace(operation.bookingId!, 'B');
      operationsOf.set(operation.bookingId!, [...(operationsOf.get(operation.bookingId!) ?? []), `${key} ${operation.status}`]);
    }
    const happyOperations = ['authorize:B:1 succeeded', 'capture:B:1 succeeded', 'transfer:B:1 succeeded'];
    const failingOperations = [
      'advance-payout:B:1 succeeded',
      'authorize:B:1 succeeded',
      ...[1, 2, 3, 4, 5].map((attempt) => `capture:B:${attempt} failed`),
    ];
    const recordProblems = bookings.flatMap((booking) => {
      const actual = operationsOf.get(booking.id) ?? [];
      const expected = booking.failing ? failingOperations : happyOperations;
      return actual.join() === expected.join() ? [] : [`${booking.id}: ${actual.join(', ')}`];
    });
    expect(recordProblems).toEqual([]);
    const states = paymentRows.map((payment) => {
      const row = bookingRows.get(payment.bookingId)!;
      return byId.get(payment.bookingId)!.failing
        ? `${row.status}/${row.paymentStatus}/advanced=${payment.payoutAdvancedAt !== null}/captured=${payment.capturedAt !== null}`
        : `${row.status}/${row.paymentStatus}/${payment.settlementOutcome}/${payment.capturedCents === payment.cardAmountCents}`;
    });
    expect(new Set(states)).toEqual(new Set(['completed/settled/completed/true', 'completed/manual_review/advanced=true/captured=false']));

    // ================= the people: one e-mail per failed payment, one loyalty credit per fifth lesson =================
    const outbox = await db.selectFrom('outbox').select(['template', 'recipient', 'payload']).execute();
    const emailOf = new Map((await db.selectFrom('users').select(['id', 'email']).execute()).map((user) => [user.id, user.email]));
    expect(outbox.map((row) => `${row.template} ${row.recipient} ${(row.payload as { bookingId: string }).bookingId}`).sort()).toEqual(
      failing.map((booking) => `payment_capture_failed ${emailOf.get(booking.studentId)} ${booking.id}`).sort(),
    );
    const lockedStudents = await db.selectFrom('users').select('id').where('status', '=', 'locked').execute();
    expect(lockedStudents.map((user) => user.id).sort()).toEqual(failing.map((booking) => booking.studentId).sort());
    const awards = await db.selectFrom('loyaltyAwards').select(['studentId', 'lessonNumber', 'amountCents']).execute();
    const lessonsPerStudent = new Map<string, number>();
    for (const booking of bookings) lessonsPerStudent.set(booking.studentId, (lessonsPerStudent.get(booking.studentId) ?? 0) + 1);
    const fiveLessonStudents = [...lessonsPerStudent].filter(([, lessons]) => lessons === 5).map(([studentId]) => studentId);
    expect(awards.map((award) => `${award.studentId} #${award.lessonNumber} ${award.amountCents}`).sort()).toEqual(
      fiveLessonStudents.map((studentId) => `${studentId} #5 1000`).sort(),
    );

    // ================= the timelines (I5): each domain event recorded once =================
    const timeline = await timelineOf(db);
    const timelineProblems = bookings.flatMap((booking) => {
      const actual = timeline.get(booking.id) ?? {};
      const expected = booking.failing ? FAILING_TIMELINE : HAPPY_TIMELINE;
      const same = JSON.stringify(Object.entries(actual).sort()) === JSON.stringify(Object.entries(expected).sort());
      return same ? [] : [`${booking.id}: ${JSON.stringify(actual)}`];
    });
    expect(timelineProblems).toEqual([]);

    console.info(
      `R9 payments: N=${N} (${failing.length} failing for good), setup ${setupSeconds.toFixed(1)} s, workers ${runSeconds.toFixed(1)} s; ` +
        `p SIGKILLed after ${capturedAtKill} captures with ${pendingAtKill} calls pending, ${resumed.length} resumed under their key, ${sweeps} sweeps sent`,
    );
  }, 150_000);
});

/**
 * Two processes acting on one booking at once, without Redis (the row lock is held only inside
 * each short transaction), interleaved deterministically: the runs of the R9 test above hit these
 * interleavings by chance. Each "process" here is `advanceLocked`/`transferLocked` with its own
 * lock handle and provider, as the settle job of another worker would run them.
 */
describe('R9: two deliveries of one booking interleaved (PostgreSQL, Stripe fake)', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => {
    await closeWorld(world);
  });

  /** A lock handle as another process would hold it; `before(n)` runs before its n-th transaction. */
  function lockOf(bookingId: string, before?: (n: number) => Promise<void>): MoneyLock {
    let n = 0;
    return {
      bookingId,
      transaction: async (work) => {
        n += 1;
        await before?.(n);
        return world.database.db.transaction().execute(async (trx) => {
          await lockBookingRowNowait(trx, bookingId);
          return work(trx);
        });
      },
    };
  }

  /** The provider, except that `method`'s answer is held (after Stripe executed the call) until released. */
  function heldAnswers(method: 'capture' | 'transfer') {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const provider = new Proxy(world.payments, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== method || typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const answer = await (value as (...callArgs: unknown[]) => Promise<unknown>).apply(target, args);
          reached();
          await released;
          return answer;
        };
      },
    });
    return { deps: { ...world.deps, payments: provider }, reached: reachedPromise, release };
  }

  it('two deliveries resume the same unanswered capture: the failure is recorded, and the student e-mailed, once', async () => {
    const { bookings } = await setUpLessons(world, { instructors: 1, slots: 2, failing: (_instructor, slot) => slot === 1 });
    const booking = bookings.find((candidate) => candidate.failing)!;
    const db = world.database.db;

    // The first delivery's last capture retry is executed at Stripe; its answer is late.
    const first = heldAnswers('capture');
    const firstRun = advanceLocked(lockOf(booking.id), first.deps);
    await first.reached;
    // The second delivery resumes the same call under the same key and records it all.
    const second = await advanceLocked(lockOf(booking.id), world.deps);
    expect(second.steps).toEqual(['capture:failed', 'transfer:transferred']);
    first.release();
    expect((await firstRun).steps).toEqual(['capture:failed']);

    expect(world.fake.callsFor(`capture:${booking.id}:5`)).toBe(2);
    const outbox = await db.selectFrom('outbox').select(['template', 'payload']).execute();
    expect(outbox.map((row) => [row.template, (row.payload as { bookingId: string }).bookingId])).toEqual([
      ['payment_capture_failed', booking.id],
    ]);
    expect((await timelineOf(db, booking.id)).get(booking.id)).toEqual(FAILING_TIMELINE);
    const transfers = [...world.fake.state.transfers.values()].filter((transfer) => transfer.metadata.bookingId === booking.id);
    expect(transfers).toHaveLength(1);
  });

  it('a payout another process sent between this one’s look and its claim is not sent again under the next key', async () => {
    const { bookings } = await setUpLessons(world, {
      instructors: 1,
      slots: 2,
      failing: (_instructor, slot) => slot === 1,
      payoutsReady: false,
    });
    const booking = bookings.find((candidate) => candidate.failing)!;
    const db = world.database.db;
    // The last retry fails: the platform advances the payout, owed until the instructor can be paid.
    expect((await advanceBookingPayment(db, world.deps, booking.id)).steps).toEqual(['capture:failed', 'transfer:owed']);
    const profile = await db
      .selectFrom('instructorProfiles')
      .select(['userId', 'stripeAccountId'])
      .where('userId', '=', booking.instructorId)
      .executeTakeFirstOrThrow();
    world.fake.completeOnboarding(profile.stripeAccountId!);
    const onboarding = { payments: world.payments, clock: world.clock, allowedReturnOrigins: ['http://localhost:3000'] };
    expect((await getPayoutAccount(db, caller(profile.userId, 'instructor'), onboarding)).payoutsEnabled).toBe(true);

    // The first delivery's transfer is executed at Stripe; its answer is late.
    const first = heldAnswers('transfer');
    const firstRun = transferLocked(lockOf(booking.id), first.deps);
    await first.reached;
    // The second delivery sees the payout owed (its first transaction), then the first one
    // finishes and records the transfer before the second claims its call.
    const second = await transferLocked(
      lockOf(booking.id, async (n) => {
        if (n !== 2) return;
        first.release();
        await firstRun;
      }),
      world.deps,
    );
    expect(await firstRun).toMatchObject({ status: 'transferred' });
    expect(second).toEqual({ status: 'skipped', reason: 'already_done' });

    const transfers = [...world.fake.state.transfers.values()].filter((transfer) => transfer.metadata.bookingId === booking.id);
    expect(transfers).toHaveLength(1);
    const operations = await db
      .selectFrom('paymentOperations')
      .select(['idempotencyKey', 'status'])
      .where('bookingId', '=', booking.id)
      .where('purpose', '=', 'advance-payout')
      .execute();
    expect(operations).toEqual([{ idempotencyKey: `advance-payout:${booking.id}:1`, status: 'succeeded' }]);
    expect((await timelineOf(db, booking.id)).get(booking.id)).toEqual(FAILING_TIMELINE);
  });
});
