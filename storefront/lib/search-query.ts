/**
 * The search text from a `?q=` parameter as Next hands it over: absent, once, or repeated
 * (`?q=a&q=b`, where the first wins). Surrounding whitespace is dropped.
 */
export function readSearchQuery(q: string | string[] | undefined): string {
  const first = Array.isArray(q) ? q[0] : q;
  return (first ?? '').trim();
}
