import { z } from 'zod';

/**
 * What the model is asked to return (OpenAI structured output, strict JSON schema). Every field
 * is present; null means the query did not say. Values are checked again against the vocabulary
 * before they are used (see mergeLlmOutput).
 */
export const LlmQueryOutput = z
  .object({
    serviceSlug: z
      .string()
      .nullable()
      .describe('Slug of the one catalog service the student wants most, from the list given; null if none fits'),
    categorySlug: z.string().nullable().describe('Category slug when the student named a whole category rather than a service'),
    servicePhrase: z.string().nullable().describe('The subject in a few words, as the student would say it'),
    maxPriceDollars: z.number().nullable().describe('Highest hourly rate in US dollars'),
    minPriceDollars: z.number().nullable().describe('Lowest hourly rate in US dollars'),
    date: z.string().nullable().describe('First local day, YYYY-MM-DD'),
    dateEnd: z.string().nullable().describe('Last local day, YYYY-MM-DD (same as date for one day)'),
    startTime: z.string().nullable().describe('Earliest local start time, HH:MM 24-hour'),
    endTime: z.string().nullable().describe('Latest local end time, HH:MM 24-hour'),
    audience: z.enum(['kids', 'teens', 'adults']).nullable(),
    age: z.number().int().nullable().describe("The student's age in years"),
    skill: z.enum(['beginner', 'intermediate', 'advanced']).nullable(),
    lessonType: z.enum(['online', 'in_person', 'student_location', 'instructor_location']).nullable(),
    location: z.string().nullable().describe('Neighborhood or borough as written, lower case'),
    nearMe: z.boolean().describe('The student asked for someone near them'),
    urgent: z.boolean().describe('The student needs a lesson urgently'),
  })
  .strict();
export type LlmQueryOutput = z.infer<typeof LlmQueryOutput>;
