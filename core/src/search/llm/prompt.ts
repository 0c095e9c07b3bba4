import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ParsedQuery, SearchVocabulary } from '../parsed-query.ts';

/**
 * The chat messages for one query: the rules and the catalog as the system message, the query
 * and what the rule-based parser made of it as the user message.
 */
export function buildMessages(
  query: string,
  fast: ParsedQuery,
  context: { vocabulary: SearchVocabulary; today: string; weekday: string; timeZone: string },
): ChatCompletionMessageParam[] {
  const catalog = context.vocabulary.services
    .map((service) => `${service.slug} (${service.categorySlug}): ${[service.name, ...service.aliases].join(', ')}`)
    .join('\n');
  const categories = context.vocabulary.categories.map((category) => `${category.slug}: ${category.name}`).join('\n');
  const system = [
    "You turn a student's search for private lessons in New York City into search filters.",
    `Today is ${context.weekday} ${context.today}; dates are local days in ${context.timeZone}, times are local HH:MM on a 24-hour clock.`,
    'Prices are US dollars per hour. Audience: kids are under 13, teens 13 to 17, adults 18 and over.',
    'Use only service and category slugs from the lists below. When the student names several services or gives alternatives, pick the one they want most and keep the others in servicePhrase.',
    'Return null for anything the query does not say; never guess.',
    '',
    'Services (slug (category): names):',
    catalog,
    '',
    'Categories:',
    categories,
  ].join('\n');
  const fastSummary = {
    serviceSlug: fast.serviceSlug,
    categorySlug: fast.categorySlug,
    maxPriceCents: fast.maxPriceCents,
    minPriceCents: fast.minPriceCents,
    date: fast.date,
    dateEnd: fast.dateEnd,
    timeWindow: fast.timeWindow,
    audience: fast.audience,
    age: fast.age,
    skill: fast.skill,
    lessonType: fast.lessonType,
    location: fast.location,
    urgency: fast.urgency,
    unsureBecause: fast.llmReasons,
  };
  return [
    { role: 'system', content: system },
    { role: 'user', content: `Query: ${JSON.stringify(query)}\nA rule-based parser read it as: ${JSON.stringify(fastSummary)}` },
  ];
}
