import { describe, expect, it } from 'vitest';
import { countCronSlotsBetween, latestCronSlot, matchesCron, nextCronSlot, parseCron } from '../src/jobs/cron.ts';
import { SCHEDULES } from '../src/jobs/schedules.ts';

const at = (iso: string) => new Date(iso);

describe('cron evaluator', () => {
  it.each([
    // expression, after, expected next slot
    ['* * * * *', '2026-03-01T10:00:00Z', '2026-03-01T10:01:00Z'],
    ['* * * * *', '2026-03-01T10:00:59.999Z', '2026-03-01T10:01:00Z'],
    ['*/15 * * * *', '2026-03-01T10:14:00Z', '2026-03-01T10:15:00Z'],
    ['*/15 * * * *', '2026-03-01T10:15:00Z', '2026-03-01T10:30:00Z'],
    ['*/15 * * * *', '2026-03-01T10:45:00Z', '2026-03-01T11:00:00Z'],
    ['5 * * * *', '2026-03-01T23:06:00Z', '2026-03-02T00:05:00Z'],
    ['15 */3 * * *', '2026-03-01T10:00:00Z', '2026-03-01T12:15:00Z'],
    ['0 8 * * *', '2026-12-31T08:00:00Z', '2027-01-01T08:00:00Z'],
    ['30 7 * * *', '2026-02-28T07:31:00Z', '2026-03-01T07:30:00Z'],
    ['0 0 29 2 *', '2026-03-01T00:00:00Z', '2028-02-29T00:00:00Z'],
    ['0 9 * * 1-5', '2026-03-06T09:00:00Z', '2026-03-09T09:00:00Z'], // Friday → Monday
    ['0 9 * * 7', '2026-03-01T09:00:00Z', '2026-03-08T09:00:00Z'], // 7 is Sunday
    ['0 0 1 * 1', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z'], // either day field matches
    ['10-20/5 4 * * *', '2026-03-01T04:15:00Z', '2026-03-01T04:20:00Z'],
    ['0,30 1,13 * 6 *', '2026-03-01T00:00:00Z', '2026-06-01T01:00:00Z'],
  ])('%s after %s is %s', (expression, after, expected) => {
    expect(nextCronSlot(parseCron(expression), at(after)).toISOString()).toBe(new Date(expected).toISOString());
  });

  it.each([
    ['* * * * *', '2026-03-01T10:00:30Z', '2026-03-01T10:00:00Z'],
    ['*/15 * * * *', '2026-03-01T10:29:59Z', '2026-03-01T10:15:00Z'],
    ['*/15 * * * *', '2026-03-01T10:30:00Z', '2026-03-01T10:30:00Z'],
    ['5 * * * *', '2026-03-01T00:04:00Z', '2026-02-28T23:05:00Z'],
    ['0 8 * * *', '2026-01-01T07:59:00Z', '2025-12-31T08:00:00Z'],
    ['0 0 29 2 *', '2027-06-01T00:00:00Z', '2024-02-29T00:00:00Z'],
    ['0 12 * 1 *', '2026-06-15T00:00:00Z', '2026-01-31T12:00:00Z'],
  ])('latest slot of %s at %s is %s', (expression, now, expected) => {
    expect(latestCronSlot(parseCron(expression), at(now))?.toISOString()).toBe(new Date(expected).toISOString());
  });

  it('agrees with a minute-by-minute scan over two days for every real schedule', () => {
    const start = at('2026-03-07T22:00:00Z').getTime();
    for (const schedule of SCHEDULES) {
      const cron = parseCron(schedule.cron);
      let expected: Date | undefined;
      for (let minute = 1; minute <= 48 * 60 && !expected; minute += 1) {
        const candidate = new Date(start + minute * 60_000);
        if (matchesCron(cron, candidate)) expected = candidate;
      }
      expect(nextCronSlot(cron, new Date(start))).toEqual(expected);
    }
  });

  it('counts the slots strictly between two instants', () => {
    const everyMinute = parseCron('* * * * *');
    expect(countCronSlotsBetween(everyMinute, at('2026-03-01T10:00:00Z'), at('2026-03-01T10:05:00Z'))).toBe(4);
    expect(countCronSlotsBetween(everyMinute, at('2026-03-01T10:00:00Z'), at('2026-03-01T10:01:00Z'))).toBe(0);
    expect(countCronSlotsBetween(parseCron('0 8 * * *'), at('2026-03-01T08:00:00Z'), at('2026-03-04T08:00:00Z'))).toBe(2);
    expect(countCronSlotsBetween(everyMinute, at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'), 100)).toBe(100);
  });

  it.each([
    ['* * * *', /5 fields/],
    ['60 * * * *', /invalid minute "60"/],
    ['* 24 * * *', /invalid hour/],
    ['* * 0 * *', /invalid day of month/],
    ['* * * 13 *', /invalid month/],
    ['* * * * 8', /invalid day of week/],
    ['*/0 * * * *', /invalid minute/],
    ['5-1 * * * *', /invalid minute/],
    ['MON * * * *', /invalid minute/],
  ])('rejects %s', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(message);
  });

  it('stops on an expression with no slot instead of looping forever', () => {
    const never = parseCron('0 0 31 2 *');
    expect(() => nextCronSlot(never, at('2026-01-01T00:00:00Z'))).toThrow(/no slot/);
    expect(latestCronSlot(never, at('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});
