import { seedDemoData } from '@instainstru/db/seed';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDING_DIMENSIONS } from '../src/search/search-ai.ts';
import { fixedClock } from '../src/shared/clock.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { tokenHeaders } from './support/bookings.ts';
import { createUser } from './support/factories.ts';

// The embedding and LLM tiers of location resolution, with OpenAI faked at its HTTP API
// (shapes from the API reference: /v1/embeddings and /v1/chat/completions).
const NOW = '2027-03-02T15:00:00Z';
const clock = fixedClock(NOW);
const API_KEY = 'sk-test-search-key';
let api: TestApi;

const embeddingRequests: Array<{
  model: string;
  input: string[];
  dimensions: number;
  encodingFormat: string;
  authorization: string | null;
}> = [];
const chatRequests: Array<{ schema: string | undefined; user: string }> = [];
let chatAnswer: (phrase: string) => Response = () => HttpResponse.json({ error: { message: 'not set' } }, { status: 500 });

/** Texts about Park Slope (and the shorthand "prk slp") share one direction; everything else points elsewhere. */
function fakeEmbedding(text: string): number[] {
  if (/park slope|prk slp/i.test(text)) return Array.from({ length: EMBEDDING_DIMENSIONS }, (_, index) => (index === 0 ? 1 : 0.01));
  let seed = [...text].reduce((hash, char) => (Math.imul(hash, 31) + char.charCodeAt(0)) | 0, 7);
  return Array.from({ length: EMBEDDING_DIMENSIONS }, () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) | 0;
    return ((seed >>> 8) % 2000) / 1000 - 1;
  });
}

function completion(content: string): Record<string, unknown> {
  return {
    id: 'chatcmpl-search-test',
    object: 'chat.completion',
    created: 1_800_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 900, completion_tokens: 12, total_tokens: 912 },
  };
}

const server = setupServer(
  http.post('https://api.openai.com/v1/embeddings', async ({ request }) => {
    const body = (await request.json()) as { model: string; input: string[]; dimensions: number; encoding_format: string };
    embeddingRequests.push({
      model: body.model,
      input: body.input,
      dimensions: body.dimensions,
      encodingFormat: body.encoding_format,
      authorization: request.headers.get('authorization'),
    });
    return HttpResponse.json({
      object: 'list',
      data: body.input.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(text) })),
      model: body.model,
      usage: { prompt_tokens: body.input.length * 4, total_tokens: body.input.length * 4 },
    });
  }),
  http.post('https://api.openai.com/v1/chat/completions', async ({ request }) => {
    const body = (await request.json()) as {
      response_format?: { json_schema?: { name?: string } };
      messages: Array<{ role: string; content: string }>;
    };
    const user = body.messages.find((message) => message.role === 'user')?.content ?? '';
    chatRequests.push({ schema: body.response_format?.json_schema?.name, user });
    return chatAnswer(user);
  }),
);

beforeAll(async () => {
  server.listen({
    onUnhandledRequest(request, print) {
      const { hostname } = new URL(request.url);
      if (hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '::1') return;
      print.error();
    },
  });
  api = await startTestApi({ clock, env: { OPENAI_API_KEY: API_KEY, RATE_LIMIT_POLICIES: JSON.stringify({ default: { mode: 'off' } }) } });
  await seedDemoData(api.database.db, { now: new Date(NOW) });
}, 180_000);
afterEach(() => {
  embeddingRequests.length = 0;
  chatRequests.length = 0;
});
afterAll(async () => {
  server.close();
  await api?.close();
});

async function search(q: string) {
  const response = await api.request(`/api/v1/search?q=${encodeURIComponent(q)}`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

describe('location tiers that need OpenAI', () => {
  it('embedding tier: a phrase close to no name by trigrams, but close in meaning (cached 24 h)', async () => {
    const body = await search('piano in prk slp');
    expect(body.parse.location).toMatchObject({ phrase: 'prk slp', tier: 'embedding', regionNames: ['Park Slope'] });
    expect(embeddingRequests.length).toBeGreaterThanOrEqual(2);
    for (const request of embeddingRequests) {
      expect(request).toMatchObject({
        model: 'text-embedding-3-small',
        dimensions: EMBEDDING_DIMENSIONS,
        encodingFormat: 'float',
        authorization: `Bearer ${API_KEY}`,
      });
    }
    expect(embeddingRequests.some((request) => request.input.length === 1 && request.input[0] === 'prk slp')).toBe(true);
    expect(embeddingRequests.some((request) => request.input.some((text) => text.startsWith('Park Slope')))).toBe(true);
    expect(chatRequests).toEqual([]);

    embeddingRequests.length = 0;
    const again = await search('guitar in prk slp');
    expect(again.parse.location).toMatchObject({ tier: 'embedding', regionNames: ['Park Slope'] });
    expect(embeddingRequests).toEqual([]);
  });

  it('LLM tier: asked only when nothing else answers; its answer waits for review and is not asked again', async () => {
    chatAnswer = (phrase) =>
      HttpResponse.json(completion(JSON.stringify({ regionSlugs: phrase === 'big cathedral' ? ['morningside-heights', 'atlantis'] : [] })));
    const body = await search('guitar in the big cathedral');
    expect(body.parse.location).toMatchObject({ phrase: 'big cathedral', tier: 'llm', regionNames: ['Morningside Heights'] });
    // best trigram score under 0.25: the embedding tier was skipped
    expect(embeddingRequests.some((request) => request.input.includes('big cathedral'))).toBe(false);
    expect(chatRequests).toEqual([{ schema: 'region_choice', user: 'big cathedral' }]);
    const pending = await api.database.db
      .selectFrom('regionAliases')
      .where('phrase', '=', 'big cathedral')
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(pending).toMatchObject({ source: 'llm', status: 'pending', regionSlugs: ['morningside-heights'] });

    chatRequests.length = 0;
    const cached = await search('piano in the big cathedral');
    expect(cached.parse.location).toMatchObject({ tier: 'llm', regionNames: ['Morningside Heights'] });
    expect(chatRequests).toEqual([]);

    const admin = tokenHeaders(api, await createUser(api.database, { roles: ['admin'] }), ['admin']);
    const rejected = await api.request(`/api/v1/admin/search/aliases/${pending.id}/reject`, { method: 'POST', headers: admin, json: {} });
    expect(rejected.status).toBe(200);
    const after = await search('violin in the big cathedral');
    expect(after.parse.location.tier).toBeNull();
    expect(chatRequests).toEqual([]);

    // a phrase the model places nowhere stays unresolved, and is recorded as a gap
    const nowhere = await search('piano in zqxj');
    expect(nowhere.parse.location.tier).toBeNull();
    expect(nowhere.notices.map((notice: { code: string }) => notice.code)).toContain('location_not_found');
  });

  it('OpenAI failing never fails the search', async () => {
    chatAnswer = () => HttpResponse.json({ error: { message: 'The server had an error', type: 'server_error' } }, { status: 500 });
    const body = await search('cello in the stone cathedral');
    expect(body.parse.location).toMatchObject({ phrase: 'stone cathedral', tier: null });
    expect(body.notices.map((notice: { code: string }) => notice.code)).toContain('location_not_found');
    expect(body.items.length).toBeGreaterThan(0);
    expect(chatRequests).toHaveLength(1);
  });
});
