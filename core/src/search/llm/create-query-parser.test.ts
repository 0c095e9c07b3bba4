import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { seedVocabulary } from '../golden/seed-vocabulary.ts';
import type { LlmQueryOutput } from './llm-output.ts';
import { createQueryParser, type LlmOutcome, type QueryParserOptions } from './create-query-parser.ts';
import { createLruCache, type QueryCache } from './query-cache.ts';

const OPENAI_URL = 'https://api.openai.com/v1/chat/completions';
const vocabulary = seedVocabulary();
// Monday 2026-11-23, 10:00 in New York.
const now = new Date('2026-11-23T15:00:00Z');
const openai = { apiKey: 'sk-test-key', model: 'gpt-4o-mini' };

const server = setupServer();
const requests: Array<{ body: Record<string, unknown>; authorization: string | null }> = [];

beforeAll(() =>
  server.listen({
    onUnhandledRequest(request, print) {
      const { hostname } = new URL(request.url);
      if (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '::1') return;
      print.error();
    },
  }),
);
afterEach(() => {
  server.resetHandlers();
  requests.length = 0;
});
afterAll(() => server.close());

function answer(overrides: Partial<LlmQueryOutput>): LlmQueryOutput {
  return {
    serviceSlug: null,
    categorySlug: null,
    servicePhrase: null,
    maxPriceDollars: null,
    minPriceDollars: null,
    date: null,
    dateEnd: null,
    startTime: null,
    endTime: null,
    audience: null,
    age: null,
    skill: null,
    lessonType: null,
    location: null,
    nearMe: false,
    urgent: false,
    ...overrides,
  };
}

/** A Chat Completions response as the API reference shows it, carrying `content` as the message. */
function completion(content: string | null, refusal: string | null = null): Record<string, unknown> {
  return {
    id: 'chatcmpl-test123',
    object: 'chat.completion',
    created: 1_795_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 812, completion_tokens: 64, total_tokens: 876 },
    service_tier: 'default',
    system_fingerprint: 'fp_test',
  };
}

function recordRequests(respond: (body: Record<string, unknown>) => Promise<Response> | Response): void {
  server.use(
    http.post(OPENAI_URL, async ({ request }) => {
      const body = (await request.json()) as Record<string, unknown>;
      requests.push({ body, authorization: request.headers.get('authorization') });
      return await respond(body);
    }),
  );
}

function parserWith(options: Partial<QueryParserOptions> = {}) {
  const outcomes: LlmOutcome[] = [];
  const parser = createQueryParser({ vocabulary, openai, onOutcome: (outcome) => outcomes.push(outcome), ...options });
  return { parser, outcomes };
}

// "or" makes the fast path unsure: it needs the LLM.
const UNSURE_QUERY = 'piano or guitar lessons for my son tomorrow';

describe('createQueryParser with the OpenAI fallback', () => {
  it('merges a valid structured answer and says the LLM produced it', async () => {
    recordRequests(() =>
      HttpResponse.json(completion(JSON.stringify(answer({ serviceSlug: 'guitar', servicePhrase: 'guitar lessons', audience: 'kids' })))),
    );
    const { parser, outcomes } = parserWith();

    const parsed = await parser.parse(UNSURE_QUERY, { now });

    expect(parsed.source).toBe('llm');
    expect(parsed.serviceSlug).toBe('guitar');
    expect(parsed.audience).toBe('kids');
    // The fast path's date stands where the model said nothing.
    expect(parsed.date).toBe('2026-11-24');
    expect(parsed.llmReasons).toContain('conditional');
    expect(outcomes).toEqual(['answered']);
    expect(requests).toHaveLength(1);
    const request = requests[0];
    expect(request?.authorization).toBe('Bearer sk-test-key');
    expect(request?.body.model).toBe('gpt-4o-mini');
    const format = request?.body.response_format as {
      type: string;
      json_schema: { name: string; strict: boolean; schema: { required: string[] } };
    };
    expect(format.type).toBe('json_schema');
    expect(format.json_schema.strict).toBe(true);
    expect(format.json_schema.schema.required).toContain('serviceSlug');
    const messages = request?.body.messages as Array<{ role: string; content: string }>;
    expect(messages.at(-1)?.content).toContain(UNSURE_QUERY);
    expect(messages[0]?.content).toContain('Monday 2026-11-23');
  });

  it('never calls the API when the fast path is sure', async () => {
    recordRequests(() => HttpResponse.json(completion(JSON.stringify(answer({})))));
    const { parser, outcomes } = parserWith();

    const parsed = await parser.parse('piano lessons for my 8 year old tomorrow', { now });

    expect(parsed.source).toBe('regex');
    expect(parsed.serviceSlug).toBe('piano');
    expect(requests).toHaveLength(0);
    expect(outcomes).toEqual(['not_needed']);
  });

  it('keeps the fast path and reports regex_llm_unavailable without an API key', async () => {
    recordRequests(() => HttpResponse.json(completion(JSON.stringify(answer({ serviceSlug: 'guitar' })))));
    const { parser, outcomes } = parserWith({ openai: { apiKey: '' } });

    const parsed = await parser.parse(UNSURE_QUERY, { now });

    expect(parsed.source).toBe('regex_llm_unavailable');
    expect(parsed.serviceSlug).toBe('piano');
    expect(requests).toHaveLength(0);
    expect(outcomes).toEqual(['unavailable']);

    const withoutOpenAi = createQueryParser({ vocabulary });
    expect((await withoutOpenAi.parse(UNSURE_QUERY, { now })).source).toBe('regex_llm_unavailable');
  });

  it('falls back to the fast path when the model takes longer than the time budget', async () => {
    recordRequests(async () => {
      await delay(3000);
      return HttpResponse.json(completion(JSON.stringify(answer({ serviceSlug: 'guitar' }))));
    });
    const { parser, outcomes } = parserWith({ timeBudgetMs: 200 });

    const startedAt = performance.now();
    const parsed = await parser.parse(UNSURE_QUERY, { now });
    const elapsedMs = performance.now() - startedAt;

    expect(parsed.source).toBe('regex_llm_failed');
    expect(parsed.serviceSlug).toBe('piano');
    expect(parsed.date).toBe('2026-11-24');
    expect(elapsedMs).toBeLessThan(1500);
    expect(outcomes).toEqual(['failed']);
  });

  it('falls back when the content is not JSON', async () => {
    recordRequests(() => HttpResponse.json(completion('{"serviceSlug": "guitar", oops')));
    const { parser } = parserWith();

    const parsed = await parser.parse(UNSURE_QUERY, { now });

    expect(parsed.source).toBe('regex_llm_failed');
    expect(parsed.serviceSlug).toBe('piano');
  });

  it('falls back when the JSON does not match the schema', async () => {
    recordRequests(() => HttpResponse.json(completion(JSON.stringify({ ...answer({ serviceSlug: 'guitar' }), audience: 'toddlers' }))));
    const { parser } = parserWith();

    expect((await parser.parse(UNSURE_QUERY, { now })).source).toBe('regex_llm_failed');
  });

  it('falls back when the model refuses', async () => {
    recordRequests(() => HttpResponse.json(completion(null, "I can't help with that.")));
    const { parser } = parserWith();

    expect((await parser.parse(UNSURE_QUERY, { now })).source).toBe('regex_llm_failed');
  });

  it('falls back on a 500 from the API, without retrying', async () => {
    recordRequests(() =>
      HttpResponse.json(
        { error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } },
        { status: 500 },
      ),
    );
    const { parser, outcomes } = parserWith();

    const parsed = await parser.parse(UNSURE_QUERY, { now });

    expect(parsed.source).toBe('regex_llm_failed');
    expect(parsed.serviceSlug).toBe('piano');
    expect(requests).toHaveLength(1);
    expect(outcomes).toEqual(['failed']);
  });

  it('lets at most maxConcurrent calls run; the others skip the LLM at once instead of queueing', async () => {
    let releaseAll: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      releaseAll = resolve;
    });
    recordRequests(async () => {
      await gate;
      return HttpResponse.json(completion(JSON.stringify(answer({ serviceSlug: 'guitar' }))));
    });
    const { parser, outcomes } = parserWith({ maxConcurrent: 2, timeBudgetMs: 5000 });

    const first = parser.parse('piano or guitar lessons', { now });
    const second = parser.parse('violin or cello lessons', { now });
    await vi.waitFor(() => expect(requests).toHaveLength(2));
    const third = await parser.parse('drums or bass lessons', { now });

    expect(third.source).toBe('regex_llm_unavailable');
    expect(outcomes).toEqual(['busy']);
    releaseAll();
    expect((await first).source).toBe('llm');
    expect((await second).source).toBe('llm');
    expect(requests).toHaveLength(2);

    // Slots are given back: a later call reaches the model again.
    const fourth = await parser.parse('flute or saxophone lessons', { now });
    expect(fourth.source).toBe('llm');
    expect(requests).toHaveLength(3);
  });

  it('answers a repeated query from the cache without an HTTP request', async () => {
    recordRequests(() => HttpResponse.json(completion(JSON.stringify(answer({ serviceSlug: 'guitar', lessonType: 'online' })))));
    const { parser, outcomes } = parserWith();

    const first = await parser.parse(UNSURE_QUERY, { now });
    const again = await parser.parse('Piano  OR guitar lessons for my son tomorrow', { now });

    expect(requests).toHaveLength(1);
    expect(outcomes).toEqual(['answered', 'cache_hit']);
    expect(again.source).toBe('llm');
    expect(again.serviceSlug).toBe('guitar');
    expect(again.lessonType).toBe(first.lessonType);

    // Relative dates make the answer depend on the day: the next day asks again.
    await parser.parse(UNSURE_QUERY, { now: new Date('2026-11-24T15:00:00Z') });
    expect(requests).toHaveLength(2);
  });

  it('uses a cache passed in (such as a Redis-backed one) through get/set', async () => {
    recordRequests(() => HttpResponse.json(completion(JSON.stringify(answer({ serviceSlug: 'guitar' })))));
    const store = new Map<string, { value: string; ttlSeconds: number }>();
    const cache: QueryCache = {
      get: async (key) => store.get(key)?.value ?? null,
      set: async (key, value, ttlSeconds) => {
        store.set(key, { value, ttlSeconds });
      },
    };
    const first = parserWith({ cache, vocabularyVersion: 'catalog-7' });
    await first.parser.parse(UNSURE_QUERY, { now });
    // Another process sharing the cache does not ask the model again.
    const second = parserWith({ cache, vocabularyVersion: 'catalog-7' });
    const parsed = await second.parser.parse(UNSURE_QUERY, { now });

    expect(requests).toHaveLength(1);
    expect(parsed.source).toBe('llm');
    const [key, entry] = [...store.entries()][0] ?? [];
    expect(key).toContain('catalog-7');
    expect(entry?.ttlSeconds).toBe(3600);

    // A new catalog version misses the old answers.
    const third = parserWith({ cache, vocabularyVersion: 'catalog-8' });
    await third.parser.parse(UNSURE_QUERY, { now });
    expect(requests).toHaveLength(2);
  });

  it('does not cache failures', async () => {
    let status = 500;
    recordRequests(() =>
      status === 500
        ? HttpResponse.json({ error: { message: 'overloaded', type: 'server_error', param: null, code: null } }, { status: 500 })
        : HttpResponse.json(completion(JSON.stringify(answer({ serviceSlug: 'guitar' })))),
    );
    const { parser } = parserWith({ cache: createLruCache() });

    expect((await parser.parse(UNSURE_QUERY, { now })).source).toBe('regex_llm_failed');
    status = 200;
    expect((await parser.parse(UNSURE_QUERY, { now })).source).toBe('llm');
    expect(requests).toHaveLength(2);
  });
});
