import { describe, expect, it } from 'vitest';
import { filenameOf } from '../src/lib/download';

describe('the name of a downloaded file', () => {
  it('is the one the answer’s Content-Disposition offers', () => {
    expect(filenameOf('attachment; filename="sla-errors.csv"', 'export.csv')).toBe(
      'sla-errors.csv',
    );
    expect(filenameOf('attachment; filename=registrations.csv', 'export.csv')).toBe(
      'registrations.csv',
    );
  });

  it('is the fallback when the header is missing (not exposed across origins) or names none', () => {
    expect(filenameOf(null, 'export.csv')).toBe('export.csv');
    expect(filenameOf('attachment', 'export.csv')).toBe('export.csv');
    expect(filenameOf('attachment; filename=""', 'export.csv')).toBe('export.csv');
  });

  it('keeps only characters safe in a file name', () => {
    expect(filenameOf('attachment; filename="../../etc/passwd"', 'export.csv')).toBe(
      '.._.._etc_passwd',
    );
  });
});
