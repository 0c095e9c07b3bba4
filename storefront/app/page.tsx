import Form from 'next/form';

export default function HomePage() {
  return (
    <main>
      <h1>InstaInstru</h1>
      <p>Book a private instructor in New York City — instantly.</p>
      {/* A GET form: it works without JavaScript, and next/form turns it into a client-side navigation. */}
      <Form action="/search" role="search">
        <label htmlFor="search-query">What do you want to learn?</label>{' '}
        <input id="search-query" name="q" type="search" placeholder="piano, Spanish, SAT math…" required />{' '}
        <button type="submit">Search</button>
      </Form>
    </main>
  );
}
