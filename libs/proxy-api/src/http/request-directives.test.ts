import { describe, expect, it } from 'vitest';
import { cacheControlDirectives, requestDirectives } from './request-directives';

describe('request cache directives', () => {
  it('reads max-age=0 as no-cache: the client accepts no stored answer', () => {
    expect(requestDirectives({ 'cache-control': 'max-age=0' })).toEqual({ noCache: true });
    expect(requestDirectives({ 'cache-control': 'MAX-AGE = "0" ,no-store' })).toEqual({
      noCache: true,
      noStore: true,
    });
    expect(requestDirectives({ 'cache-control': 'max-age=00' })).toEqual({ noCache: true });
    // an answer up to a minute old is fine: the cache is read
    expect(requestDirectives({ 'cache-control': 'max-age=60' })).toBeUndefined();
  });

  it('reads Pragma: no-cache when there is no Cache-Control (RFC 9111 §5.4)', () => {
    expect(requestDirectives({ pragma: 'no-cache' })).toEqual({ noCache: true });
    expect(requestDirectives({ pragma: 'No-Cache' })).toEqual({ noCache: true });
    expect(requestDirectives({ pragma: 'x-other' })).toBeUndefined();
    expect(requestDirectives({ pragma: 'no-cache', 'cache-control': 'no-store' })).toEqual({ noStore: true });
  });

  it('parses directives case-insensitively, with spaces and quoted values holding commas', () => {
    expect(requestDirectives({ 'cache-control': '  No-Store ,\tNO-CACHE  ' })).toEqual({
      noCache: true,
      noStore: true,
    });
    expect([...cacheControlDirectives('private="a, no-cache", max-age=5')]).toEqual([
      ['private', 'a, no-cache'],
      ['max-age', '5'],
    ]);
    // a quoted no-cache is a value, not a directive; a name merely containing one is another directive
    expect(requestDirectives({ 'cache-control': 'x-note="no-cache", no-cache-please' })).toBeUndefined();
    // the first occurrence counts; a malformed item ends the list
    expect(cacheControlDirectives('max-age=5, max-age=0').get('max-age')).toBe('5');
    expect([...cacheControlDirectives('no-store, bad item, no-cache').keys()]).toEqual(['no-store']);
  });

  it('skips empty list elements, as RFC 9110 §5.6.1 requires, so a no-store after one still counts', () => {
    // what Node makes of two header lines, the first empty (over HTTP: cache-request-headers.test.ts)
    expect(requestDirectives({ 'cache-control': ', no-store' })).toEqual({ noStore: true });
    expect([...cacheControlDirectives('no-transform,, no-store').keys()]).toEqual([
      'no-transform',
      'no-store',
    ]);
    expect(requestDirectives({ 'cache-control': 'max-age=3600,,no-cache' })).toEqual({ noCache: true });
    expect(requestDirectives({ 'cache-control': ' , ,\tno-cache , ,' })).toEqual({ noCache: true });
    expect(requestDirectives({ pragma: ', no-cache' })).toEqual({ noCache: true });
    expect(requestDirectives({ 'cache-control': ' , ' })).toBeUndefined();
  });
});
