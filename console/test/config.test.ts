import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/lib/config';

const origin = 'http://localhost:3000';

describe('console config.json', () => {
  it('uses the console’s own origin when the API URL is empty (the local build)', () => {
    expect(parseConfig({ apiUrl: '' }, origin)).toEqual({ apiUrl: origin });
  });

  it('uses the deployed API URL, without its trailing slash', () => {
    expect(
      parseConfig({ apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod/' }, origin),
    ).toEqual({ apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/prod' });
  });

  it('falls back to the origin for a missing file or an unusable URL', () => {
    for (const value of [undefined, null, 'x', { apiUrl: 7 }, { apiUrl: 'javascript:alert(1)' }]) {
      expect(parseConfig(value, origin), JSON.stringify(value)).toEqual({ apiUrl: origin });
    }
  });
});
