/* global document */
// The API reference page: fetches /openapi.json from this server and renders every operation,
// grouped by tag, with its parameters, request body and responses. No dependencies and no
// network access beyond this origin, so it works offline. Text goes in through textContent only:
// descriptions come from the document and must never become markup.

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = String(value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function resolveRef(documentRoot, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .reduce((node, part) => (node ? node[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), documentRoot);
}

function typeLabel(schema) {
  if (!schema || typeof schema !== 'object') return 'any';
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const label = types.map((type) => (type === 'array' ? `${typeLabel(schema.items)}[]` : type)).join(' | ');
  const extras = [];
  if (schema.format) extras.push(schema.format);
  if (schema.minimum !== undefined) extras.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) extras.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined) extras.push(`length ≥ ${schema.minLength}`);
  if (schema.maxLength !== undefined) extras.push(`length ≤ ${schema.maxLength}`);
  if (schema.pattern) extras.push(`pattern ${schema.pattern}`);
  if (schema.default !== undefined) extras.push(`default ${JSON.stringify(schema.default)}`);
  return [label || 'any', extras.length ? `(${extras.join(', ')})` : ''].filter(Boolean).join(' ');
}

/** A schema as a nested list: one line per property with its type, required marker and description. */
function renderSchema(documentRoot, schema, seen = new Set()) {
  if (!schema || typeof schema !== 'object') return el('span', { class: 'type', text: 'any' });
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop();
    if (seen.has(schema.$ref)) return el('span', { class: 'type', text: `${name} (see above)` });
    const target = resolveRef(documentRoot, schema.$ref);
    const nested = new Set(seen).add(schema.$ref);
    return el('div', { class: 'ref' }, el('span', { class: 'ref-name', text: `${name} ` }), renderSchema(documentRoot, target, nested));
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) {
    return el(
      'div',
      { class: 'alternatives' },
      el('span', { class: 'label', text: schema.anyOf ? 'any of' : 'one of' }),
      el(
        'ul',
        {},
        alternatives.map((option) => el('li', {}, renderSchema(documentRoot, option, seen))),
      ),
    );
  }
  if (Array.isArray(schema.allOf)) {
    return el(
      'div',
      { class: 'alternatives' },
      el('span', { class: 'label', text: 'all of' }),
      el(
        'ul',
        {},
        schema.allOf.map((part) => el('li', {}, renderSchema(documentRoot, part, seen))),
      ),
    );
  }
  const isObject = schema.type === 'object' || (Array.isArray(schema.type) && schema.type.includes('object')) || schema.properties;
  if (isObject && schema.properties) {
    const required = new Set(schema.required ?? []);
    return el(
      'ul',
      { class: 'properties' },
      Object.entries(schema.properties).map(([name, property]) =>
        el(
          'li',
          {},
          el('code', { class: 'name', text: name }),
          required.has(name) ? el('span', { class: 'required', text: 'required' }) : null,
          ' ',
          isComposite(property) ? null : el('span', { class: 'type', text: typeLabel(property) }),
          property.description ? el('span', { class: 'description', text: ` — ${property.description}` }) : null,
          isComposite(property) ? renderSchema(documentRoot, property, seen) : null,
        ),
      ),
      schema.additionalProperties && typeof schema.additionalProperties === 'object'
        ? el(
            'li',
            {},
            el('code', { class: 'name', text: '[any name]' }),
            ' ',
            renderSchema(documentRoot, schema.additionalProperties, seen),
          )
        : null,
    );
  }
  if (isObject && schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    const keys = Array.isArray(schema.propertyNames?.enum) ? schema.propertyNames.enum.join(' | ') : 'any name';
    return el(
      'div',
      {},
      el('span', { class: 'type', text: `map: ${keys} →` }),
      renderSchema(documentRoot, schema.additionalProperties, seen),
    );
  }
  if ((schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array'))) && isComposite(schema.items)) {
    return el('div', {}, el('span', { class: 'type', text: 'array of' }), renderSchema(documentRoot, schema.items, seen));
  }
  return el(
    'span',
    { class: 'type', text: typeLabel(schema) },
    schema.description ? el('span', { class: 'description', text: ` — ${schema.description}` }) : null,
  );
}

function isComposite(schema) {
  if (!schema || typeof schema !== 'object') return false;
  return Boolean(
    schema.$ref ||
    schema.anyOf ||
    schema.oneOf ||
    schema.allOf ||
    schema.properties ||
    (schema.additionalProperties && typeof schema.additionalProperties === 'object') ||
    (schema.items && isComposite(schema.items)),
  );
}

function renderParameters(documentRoot, parameters) {
  if (!parameters || parameters.length === 0) return null;
  return el(
    'section',
    {},
    el('h4', { text: 'Parameters' }),
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ['Name', 'In', 'Type', 'Description'].map((heading) => el('th', { text: heading })),
        ),
      ),
      el(
        'tbody',
        {},
        parameters.map((parameter) =>
          el(
            'tr',
            {},
            el(
              'td',
              {},
              el('code', { text: parameter.name }),
              parameter.required ? el('span', { class: 'required', text: 'required' }) : null,
            ),
            el('td', { text: parameter.in }),
            el('td', {}, renderSchema(documentRoot, parameter.schema)),
            el('td', { text: parameter.description ?? '' }),
          ),
        ),
      ),
    ),
  );
}

function renderContent(documentRoot, content) {
  if (!content) return null;
  return Object.entries(content).map(([mediaType, media]) =>
    el('div', { class: 'media' }, el('span', { class: 'media-type', text: mediaType }), renderSchema(documentRoot, media.schema)),
  );
}

function renderOperation(documentRoot, path, method, operation) {
  const permission = operation['x-required-permission'];
  const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
  const access = isPublic ? 'public' : permission ? `permission ${permission}` : 'signed in';
  const responses = Object.entries(operation.responses ?? {});
  return el(
    'details',
    {
      class: `operation ${method}`,
      id: operation.operationId,
      'data-search': `${method} ${path} ${operation.summary ?? ''} ${(operation.tags ?? []).join(' ')}`.toLowerCase(),
    },
    el(
      'summary',
      {},
      el('span', { class: `method ${method}`, text: method.toUpperCase() }),
      el('code', { class: 'path', text: path }),
      el('span', { class: 'summary', text: operation.summary ?? '' }),
      el('span', { class: 'access', text: access }),
    ),
    el(
      'div',
      { class: 'body' },
      el('p', {
        class: 'meta',
        text: `operationId ${operation.operationId ?? '—'} · rate limit policy ${operation['x-rate-limit-policy'] ?? 'default'}`,
      }),
      renderParameters(documentRoot, operation.parameters),
      operation.requestBody
        ? el(
            'section',
            {},
            el('h4', { text: `Request body${operation.requestBody.required ? ' (required)' : ''}` }),
            renderContent(documentRoot, operation.requestBody.content),
          )
        : null,
      el(
        'section',
        {},
        el('h4', { text: 'Responses' }),
        responses.map(([status, response]) =>
          el(
            'div',
            { class: `response status-${status.charAt(0)}xx` },
            el('span', { class: 'status', text: status }),
            el('span', { class: 'description', text: response.description ?? '' }),
            renderContent(documentRoot, response.content),
          ),
        ),
      ),
    ),
  );
}

function render(documentRoot) {
  document.getElementById('title').textContent = `${documentRoot.info?.title ?? 'API'} ${documentRoot.info?.version ?? ''}`.trim();
  document.getElementById('description').textContent = documentRoot.info?.description ?? '';
  const byTag = new Map();
  for (const [path, item] of Object.entries(documentRoot.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      for (const tag of operation.tags?.length ? operation.tags : ['other']) {
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push({ path, method, operation });
      }
    }
  }
  const tags = [...byTag.keys()].sort();
  const nav = document.getElementById('tags');
  nav.replaceChildren(
    el(
      'ul',
      {},
      tags.map((tag) => el('li', {}, el('a', { href: `#tag-${tag}`, text: `${tag} (${byTag.get(tag).length})` }))),
    ),
  );
  const main = document.getElementById('operations');
  main.replaceChildren(
    ...tags.map((tag) =>
      el(
        'section',
        { class: 'tag', id: `tag-${tag}` },
        el('h2', { text: tag }),
        byTag
          .get(tag)
          .sort((a, b) => a.path.localeCompare(b.path) || METHODS.indexOf(a.method) - METHODS.indexOf(b.method))
          .map(({ path, method, operation }) => renderOperation(documentRoot, path, method, operation)),
      ),
    ),
  );
  document.body.dataset.ready = 'true';
}

function applyFilter(text) {
  const needle = text.trim().toLowerCase();
  for (const operation of document.querySelectorAll('details.operation')) {
    operation.hidden = needle !== '' && !operation.dataset.search.includes(needle);
  }
  for (const section of document.querySelectorAll('section.tag')) {
    section.hidden = [...section.querySelectorAll('details.operation')].every((operation) => operation.hidden);
  }
}

async function main() {
  const main = document.getElementById('operations');
  try {
    const response = await fetch('/openapi.json', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`/openapi.json answered ${response.status}`);
    render(await response.json());
    const filter = document.getElementById('filter');
    filter.addEventListener('input', () => applyFilter(filter.value));
  } catch (error) {
    main.replaceChildren(el('p', { class: 'status error', text: `Could not load the API description: ${error.message}` }));
    document.body.dataset.ready = 'error';
  }
}

main();
