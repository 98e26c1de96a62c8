import { isSafeFileName } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { MAX_FLAG_FILE_NAME_BYTES, flagFileName } from './flag-file-name.ts';

function expectSafe(name: string): void {
  expect(isSafeFileName(name)).toBe(true);
  expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_FLAG_FILE_NAME_BYTES);
  expect(name).toMatch(/^[A-Z]{2}(_.+)?\.gif$/u);
  expect(name).not.toMatch(/[/\\<>:"|?*\p{Cc}\p{Cf}]/u);
}

describe('flagFileName', () => {
  it("keeps the reference's {CC}_{country}.gif, spaces as underscores", () => {
    expect(flagFileName('CN', 'China')).toBe('CN_China.gif');
    expect(flagFileName('US', 'United States')).toBe('US_United_States.gif');
    expect(flagFileName('cd', 'Congo, The Democratic Republic of the')).toBe(
      'CD_Congo,_The_Democratic_Republic_of_the.gif',
    );
    expect(flagFileName('CI', "Côte d'Ivoire")).toBe("CI_Côte_d'Ivoire.gif");
  });

  it('cannot climb out of the folder', () => {
    const name = flagFileName('XX', '../../etc/passwd');
    expectSafe(name);
    expect(name).toBe('XX_etc_passwd.gif');
    expectSafe(flagFileName('XX', '..\\..\\windows\\system32'));
    expectSafe(flagFileName('XX', '/'));
  });

  it('falls back to {CC}.gif when nothing usable is left', () => {
    for (const country of ['', ' ', '.', '..', '...', '/', '\0', '\r\n', '\u202e', '_-_', '\t.\t']) {
      expect(flagFileName('DE', country)).toBe('DE.gif');
    }
  });

  it('drops NUL, CR/LF and other control characters', () => {
    const name = flagFileName('FR', 'Fra\0nce\r\nX-Evil: 1\u0007');
    expectSafe(name);
    expect(name).toBe('FR_France_X-Evil_1.gif');
  });

  it('drops bidi overrides that could fake the extension', () => {
    const name = flagFileName('BR', 'Brazil\u202egpj.exe');
    expectSafe(name);
    expect(name).toBe('BR_Brazilgpj.exe.gif');
  });

  it('keeps right-to-left scripts as they are', () => {
    expect(flagFileName('IR', 'ایران')).toBe('IR_ایران.gif');
    expect(flagFileName('IL', 'ישראל')).toBe('IL_ישראל.gif');
  });

  it('normalizes to NFC so one country has one name', () => {
    const decomposed = 'Co\u0302te';
    const composed = 'C\u00f4te';
    expect(flagFileName('CI', decomposed)).toBe(flagFileName('CI', composed));
    expect(flagFileName('CI', decomposed)).toBe('CI_C\u00f4te.gif');
  });

  it('replaces Windows-reserved characters', () => {
    const name = flagFileName('TR', 'a<b>c:d"e|f?g*h%i');
    expectSafe(name);
    expect(name).toBe('TR_a_b_c_d_e_f_g_h_i.gif');
  });

  it('never produces a bare Windows device name', () => {
    for (const device of ['CON', 'NUL', 'AUX', 'COM1', 'LPT1', 'nul.txt']) {
      const name = flagFileName('NO', device);
      expectSafe(name);
      expect(name.split('.')[0]).not.toMatch(/^(CON|PRN|AUX|NUL|COM\d|LPT\d)$/i);
    }
  });

  it('bounds a 10 KB name in UTF-8 bytes, cutting between graphemes', () => {
    const ascii = flagFileName('JP', 'J'.repeat(10_000));
    expectSafe(ascii);
    expect(Buffer.byteLength(ascii)).toBe(MAX_FLAG_FILE_NAME_BYTES);

    const emoji = flagFileName('JP', '🇯🇵'.repeat(3_000));
    expectSafe(emoji);
    // Every flag emoji is two regional indicators (8 bytes); none is cut in half.
    const country = emoji.slice(3, -4);
    expect(Buffer.byteLength(country) % 8).toBe(0);

    const combining = flagFileName('VN', 'e\u0301\u0302\u0303'.repeat(2_000));
    expectSafe(combining);
    expect(combining.slice(3, -4).normalize('NFC')).toBe(combining.slice(3, -4));
  });

  it('survives lone surrogates', () => {
    expectSafe(flagFileName('PK', 'Pak\ud800istan'));
  });

  it('trims leading dots so the file is never hidden', () => {
    expect(flagFileName('SE', '.hidden')).toBe('SE_hidden.gif');
    expect(flagFileName('SE', 'Sweden.')).toBe('SE_Sweden.gif');
  });

  it('rejects a code that is not two letters', () => {
    expect(() => flagFileName('../', 'x')).toThrow(RangeError);
    expect(() => flagFileName('USA', 'x')).toThrow(RangeError);
    expect(() => flagFileName('', 'x')).toThrow(RangeError);
  });
});
