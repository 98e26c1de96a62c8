import { describe, expect, it } from 'vitest';
import { MAX_COUNTRY_LENGTH, checkGif, checkMetadata } from './flag-content.ts';

/** A whole 1×1 GIF89a: header, screen descriptor, global colour table, graphic control extension, image, trailer. */
const TINY_GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

/** A GIF87a with no global colour table and a local one, two image blocks, a comment. */
function gif87WithLocalTable(): Buffer {
  const image = [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x80, ...[0, 0, 0, 255, 255, 255], 2, 2, 0x44, 0x01, 0];
  const comment = [0x21, 0xfe, 3, ...Buffer.from('hi!'), 0];
  return Buffer.from([...Buffer.from('GIF87a'), 1, 0, 1, 0, 0x00, 0, 0, ...image, ...comment, ...image, 0x3b]);
}

describe('checkGif', () => {
  it('accepts a whole GIF89a and a whole GIF87a', () => {
    expect(checkGif(TINY_GIF)).toEqual({ ok: true });
    expect(checkGif(gif87WithLocalTable())).toEqual({ ok: true });
  });

  it('accepts a GIF that is a view into a larger buffer', () => {
    const larger = Buffer.concat([Buffer.from('junk'), TINY_GIF, Buffer.from('more')]);
    expect(checkGif(new Uint8Array(larger.buffer, larger.byteOffset + 4, TINY_GIF.byteLength))).toEqual({ ok: true });
  });

  it('refuses every truncation of a whole GIF, wherever it is cut', () => {
    for (const whole of [TINY_GIF, gif87WithLocalTable()]) {
      for (let length = 0; length < whole.byteLength; length++) {
        const check = checkGif(whole.subarray(0, length));
        expect(check.ok, `cut at ${length} of ${whole.byteLength}`).toBe(false);
      }
    }
  });

  it('refuses a body cut where a data byte happens to be the trailer 0x3B', () => {
    // The image data sub-block holds a 0x3B: "ends with 0x3B" alone would pass this.
    const whole = Buffer.from(TINY_GIF);
    const dataAt = whole.byteLength - 4; // ... 02 44 01 | 00 3B: the last data byte
    whole[dataAt] = 0x3b;
    expect(checkGif(whole)).toEqual({ ok: true });
    expect(checkGif(whole.subarray(0, dataAt + 1))).toMatchObject({ ok: false, kind: 'not-whole' });
  });

  it('refuses a signature followed by zeros (the padded body of the issue)', () => {
    const padded = Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(600_000)]);
    expect(checkGif(padded)).toEqual({
      ok: false,
      kind: 'not-whole',
      problem: 'unexpected byte 0x00 at offset 13, no trailer',
    });
  });

  it('refuses bytes after the trailer', () => {
    expect(checkGif(Buffer.concat([TINY_GIF, Buffer.alloc(3)]))).toEqual({
      ok: false,
      kind: 'not-whole',
      problem: '3 bytes after the trailer',
    });
  });

  it('tells a body that is no GIF at all from a broken GIF', () => {
    expect(checkGif(Buffer.from('<html>not an image</html>'))).toMatchObject({ ok: false, kind: 'not-gif' });
    expect(checkGif(Buffer.from('GIF89'))).toMatchObject({ ok: false, kind: 'not-gif' });
    expect(checkGif(new Uint8Array())).toMatchObject({ ok: false, kind: 'not-gif' });
  });
});

describe('checkMetadata', () => {
  it('reads the country of a JSON object', () => {
    expect(checkMetadata('{"country":"China","iso_cc":"CN"}')).toEqual({ ok: true, country: 'China' });
    expect(checkMetadata(JSON.stringify({ country: 'x'.repeat(MAX_COUNTRY_LENGTH) }))).toMatchObject({ ok: true });
  });

  it.each([
    ['<html>', 'metadata is not JSON'],
    ['null', 'metadata is not a JSON object'],
    ['["China"]', 'metadata is not a JSON object'],
    ['"China"', 'metadata is not a JSON object'],
    ['{"name":"China"}', 'metadata has no string "country"'],
    ['{"country":["China"]}', 'metadata has no string "country"'],
    [JSON.stringify({ country: 'x'.repeat(MAX_COUNTRY_LENGTH + 1) }), 'metadata "country" is 201 characters long'],
  ])('refuses %s', (text, problem) => {
    const check = checkMetadata(text);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.problem).toContain(problem);
  });
});
