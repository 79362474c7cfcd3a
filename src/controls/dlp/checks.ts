// Validators behind the managed data identifiers: checksums and issuer/registry rules. Pure functions.

/** Luhn (ISO/IEC 7812-1 annex B) over a string of digits. */
export function luhn(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** Issuer identification ranges and lengths (ISO/IEC 7812 IINs as published by the networks). */
interface IssuerRange {
  brand: string;
  from: number;
  to: number;
  /** Digits of `from`/`to` (the prefix length). */
  digits: number;
  lengths: readonly number[];
}

const r = (brand: string, from: number, to: number, lengths: readonly number[]): IssuerRange => ({ brand, from, to, digits: String(from).length, lengths });
const L = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

export const ISSUER_RANGES: readonly IssuerRange[] = [
  r('UATP', 1, 1, [15]),
  r('JCB', 1800, 1800, [15]),
  r('JCB', 2131, 2131, [15]),
  r('Mir', 2200, 2204, [16, 17, 18, 19]),
  r('Mastercard', 2221, 2720, [16]),
  r('Diners Club', 300, 305, L(14, 19)),
  r('Diners Club', 3095, 3095, L(14, 19)),
  r('Diners Club', 36, 36, L(14, 19)),
  r('Diners Club', 38, 39, L(14, 19)),
  r('American Express', 34, 34, [15]),
  r('American Express', 37, 37, [15]),
  // JCB's assigned block is 3528-3589; the rest of 35 is accepted too, as the common JCB pattern
  // (35\d{14}) and most test-data generators use it.
  r('JCB', 35, 35, L(16, 19)),
  r('Visa', 4, 4, [13, 16, 19]),
  r('Maestro', 50, 50, L(12, 19)),
  r('Mastercard', 51, 55, [16]),
  r('Maestro', 56, 58, L(12, 19)),
  r('Discover', 6011, 6011, L(16, 19)),
  r('UnionPay', 62, 62, L(16, 19)),
  r('Discover', 644, 649, L(16, 19)),
  r('Discover', 65, 65, L(16, 19)),
  r('Maestro', 6, 6, L(12, 19)),
  r('UnionPay', 81, 81, L(16, 19)),
  r('RuPay', 82, 82, [16]),
];

/** The card brand of a PAN when its prefix and length fit a network's published range. */
export function cardBrand(pan: string): string | undefined {
  for (const x of ISSUER_RANGES) {
    if (!x.lengths.includes(pan.length)) continue;
    const p = Number(pan.slice(0, x.digits));
    if (p >= x.from && p <= x.to) return x.brand;
  }
  return undefined;
}

/** A plausible primary account number: issuer range and length, Luhn, and not one repeated digit. */
export function isCardNumber(pan: string): boolean {
  if (pan.length < 12 || pan.length > 19 || !/^\d+$/.test(pan)) return false;
  if (/^(\d)\1+$/.test(pan)) return false;
  return cardBrand(pan) !== undefined && luhn(pan);
}

/**
 * US Social Security number rules (SSA): area 000, 666 and 900-999 are never issued, group 00 and
 * serial 0000 are never issued. Also refused: numbers the SSA voided after they were printed in
 * advertising (078-05-1120, 219-09-9999) and 123-45-6789.
 */
export function isSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = Number(digits.slice(0, 3));
  const group = digits.slice(3, 5);
  const serial = digits.slice(5);
  if (area === 0 || area === 666 || area >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  if (digits === '078051120' || digits === '219099999' || digits === '123456789') return false;
  return true;
}

/** IRS ITIN: 9XX-YY-ZZZZ with YY in 50-65, 70-88, 90-92 or 94-99. */
export function isItin(digits: string): boolean {
  if (!/^9\d{8}$/.test(digits)) return false;
  const g = Number(digits.slice(3, 5));
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99);
}

/** IBAN length per country (ISO 13616 registry, SWIFT IBAN Registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18,
  FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23,
  IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27,
  MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28,
  PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27,
  SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** ISO 7064 mod 97-10 over an IBAN (spaces removed, any case). */
export function ibanChecksum(iban: string): boolean {
  const s = iban.toUpperCase();
  const rearranged = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const c = ch.charCodeAt(0);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/** An IBAN: known country, the registry's length for it, check digits 02-98 and mod 97 = 1. */
export function isIban(raw: string): boolean {
  const s = raw.replace(/[ -]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(s)) return false;
  const len = IBAN_LENGTHS[s.slice(0, 2)];
  if (len === undefined || s.length !== len) return false;
  const check = Number(s.slice(2, 4));
  if (check < 2 || check > 98) return false;
  return ibanChecksum(s);
}

/** ABA routing number checksum (3-7-1 weights). */
export function isAbaRouting(d: string): boolean {
  if (!/^\d{9}$/.test(d)) return false;
  const n = [...d].map(Number);
  return (3 * (n[0]! + n[3]! + n[6]!) + 7 * (n[1]! + n[4]! + n[7]!) + (n[2]! + n[5]! + n[8]!)) % 10 === 0;
}

/** Shannon entropy in bits per character (used to refuse low-entropy "secret" candidates). */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
