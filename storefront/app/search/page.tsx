import Link from 'next/link';
import { readSearchQuery } from '../../lib/search-query.ts';

export const metadata = { title: 'Search · InstaInstru' };

export default async function SearchPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const query = readSearchQuery((await searchParams).q);

  return (
    <main>
      <h1>{query ? `Search results for “${query}”` : 'Search'}</h1>
      <p role="note">
        <strong>Coming soon:</strong> instructor search is not built yet, so there are no results to show.
      </p>
      <p>
        <Link href="/">Back to InstaInstru</Link>
      </p>
    </main>
  );
}
