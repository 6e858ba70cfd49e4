import { describe, expect, it } from 'vitest';
import { nextCursor, parseLinkHeader } from '../src/lib/link';

describe('Link header parsing', () => {
  it('reads the API’s query-only next link', () => {
    expect(parseLinkHeader('<?status=active&limit=50&cursor=abc.def>; rel="next"')).toEqual([
      { target: '?status=active&limit=50&cursor=abc.def', rels: ['next'] },
    ]);
  });

  it('finds the next cursor among several links, relative to the URL called', () => {
    const header =
      '<https://api.example/prod/events?cursor=first>; rel="first", <?limit=2&cursor=p2%3D%3D>; rel="next"';
    expect(nextCursor(header, 'https://api.example/prod/events?limit=2')).toBe('p2==');
  });

  it('keeps commas and semicolons inside the target or a quoted value', () => {
    const links = parseLinkHeader('<?a=1,2;3&cursor=x>; title="a, b; c"; rel="next prev"');
    expect(links).toEqual([{ target: '?a=1,2;3&cursor=x', rels: ['next', 'prev'] }]);
  });

  it('accepts an unquoted, upper-case rel', () => {
    expect(nextCursor('<?cursor=z>; REL=Next', 'http://localhost/users')).toBe('z');
  });

  it('says there is no next page without a header, without rel=next or without a cursor', () => {
    expect(nextCursor(null, 'http://localhost/events')).toBeUndefined();
    expect(nextCursor('<?cursor=z>; rel="prev"', 'http://localhost/events')).toBeUndefined();
    expect(nextCursor('<?limit=5>; rel="next"', 'http://localhost/events')).toBeUndefined();
    expect(parseLinkHeader('garbage, ; rel=next')).toEqual([]);
  });
});
