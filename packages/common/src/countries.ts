// Country codes: ISO 3166-1 alpha-2 from a maintained dataset (i18n-iso-countries,
// which also carries XK for Kosovo), and the reference program's 20 codes.
import countries from 'i18n-iso-countries';

/** Every alpha-2 code Flagship accepts, upper case, sorted. */
export const COUNTRY_CODES: readonly string[] = Object.freeze(Object.keys(countries.getAlpha2Codes()).sort());

const KNOWN = new Set(COUNTRY_CODES);

/** The reference program's codes, in its order: the default download. */
export const REFERENCE_CODES: readonly string[] = Object.freeze(
  'CN IN US DK BR PK NG SE RU JP MX PH VN ET EG DE IR TR CD FR'.split(' '),
);

export function isCountryCode(code: string): boolean {
  return KNOWN.has(code.toUpperCase());
}

/** Upper-case and de-duplicate, keeping the first occurrence's order. */
export function normalizeCodes(codes: readonly string[]): string[] {
  return [...new Set(codes.map((code) => code.toUpperCase()))];
}
