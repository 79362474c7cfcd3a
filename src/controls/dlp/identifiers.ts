// Managed data identifiers: Macie's ids, categories and keyword requirements, and how each is detected
// here (candidate pattern + validation). Keyword lists are those Macie's user guide gives as examples,
// completed with common variants; the rules for keywords are in engine.ts.

import { entropy, isCardNumber, isIban, isItin, isSsn, IBAN_LENGTHS, luhn } from './checks.ts';
import type { ManagedIdentifier } from './types.ts';
import { findAddresses, findNames } from './people.ts';
import { work } from './work.ts';

/** A candidate found in text: [start, end) in UTF-16 code units. */
export interface Candidate {
  start: number;
  end: number;
  /** Report under another id of the same family (e.g. CREDIT_CARD_NUMBER_(NO_KEYWORD)). */
  id?: string;
  /** Overrides the identifier's keywordsRequired for this candidate (self-identifying formats). */
  needsKeyword?: boolean;
}

export interface Detector {
  meta: ManagedIdentifier;
  /** Lower wins when two identifiers claim overlapping text (validated formats before loose ones). */
  priority: number;
  find(text: string): Candidate[];
  /** When a keyword-required candidate has no keyword: report it under this id instead of dropping it. */
  noKeywordId?: string;
}

const FIN = 'SensitiveData:S3Object/Financial' as const;
const PER = 'SensitiveData:S3Object/Personal' as const;
const CRED = 'SensitiveData:S3Object/Credentials' as const;

function* matches(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) re.lastIndex++;
    yield m;
  }
}

function byRegex(re: RegExp, valid: (value: string, m: RegExpExecArray) => boolean = () => true, group = 0): (text: string) => Candidate[] {
  return (text) => {
    const out: Candidate[] = [];
    for (const m of matches(re, text)) {
      const value = m[group] ?? m[0];
      if (!valid(value, m)) continue;
      const start = m.index + (group ? m[0].indexOf(value) : 0);
      out.push({ start, end: start + value.length });
    }
    return out;
  };
}

const digitsOf = (s: string) => s.replace(/\D/g, '');

// ---- card numbers ---------------------------------------------------------------------------------

/** Runs of digit groups separated by one space or dash; not touching letters, other digits or a decimal point. */
const DIGIT_RUN = /(?<![\d.,]\d?)(?<![\dA-Za-z])\d+(?:[ -]\d+)*(?![\dA-Za-z]|[.,]\d)/g;

/** Card numbers inside a run: whole groups only (a longer unbroken digit string is never split), greedy. */
export function findCards(text: string): Candidate[] {
  const out: Candidate[] = [];
  for (const m of matches(DIGIT_RUN, text)) {
    const run = m[0];
    const groups: { s: number; e: number; d: string }[] = [];
    for (const g of matches(/\d+/g, run)) groups.push({ s: m.index + g.index, e: m.index + g.index + g[0].length, d: g[0] });
    let i = 0;
    while (i < groups.length) {
      let found = -1;
      let digits = '';
      const cands: number[] = [];
      for (let j = i; j < groups.length; j++) {
        digits += groups[j]!.d;
        if (digits.length > 19) break;
        if (digits.length >= 12) cands.push(j);
      }
      for (let k = cands.length - 1; k >= 0; k--) {
        const j = cands[k]!;
        const pan = groups.slice(i, j + 1).map((g) => g.d).join('');
        if (isCardNumber(pan) && consistentSeparators(text.slice(groups[i]!.s, groups[j]!.e))) {
          found = j;
          break;
        }
      }
      if (found >= 0) {
        out.push({ start: groups[i]!.s, end: groups[found]!.e });
        i = found + 1;
      } else i++;
    }
  }
  return out;
}

/** "4111 1111 1111 1111", "4111-1111-1111-1111", "3600 6666 3333 44" yes; mixed separators or a
 * group of 1-2 digits other than the last no. */
function consistentSeparators(s: string): boolean {
  const seps = s.replace(/\d/g, '');
  if (!seps) return true;
  if (new Set(seps).size > 1) return false;
  const groups = s.split(/[ -]/);
  return groups.every((g, i) => g.length >= 3 || (i === groups.length - 1 && g.length === 2));
}

const TRACK1 = /%B(\d{12,19})\^[A-Za-z0-9 /.'-]{2,26}\^\d{4}\d*\??/g;
const TRACK2 = /;(\d{12,19})=\d{4}\d*\??/g;

// ---- IBAN -----------------------------------------------------------------------------------------

const IBAN_START = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ -]?[A-Za-z0-9])/g;

export function findIbans(text: string): Candidate[] {
  const out: Candidate[] = [];
  for (const m of matches(IBAN_START, text)) {
    const cc = m[0].slice(0, 2).toUpperCase();
    const len = IBAN_LENGTHS[cc];
    if (!len) continue;
    // walk: alphanumerics with at most one space or dash between them, until `len` characters
    let count = 4;
    let i = m.index + 4;
    let compact = m[0];
    while (i < text.length && count < len) {
      let c = text[i]!;
      if ((c === ' ' || c === '-') && /[A-Za-z0-9]/.test(text[i + 1] ?? '')) {
        i++;
        c = text[i]!;
      }
      if (!/[A-Za-z0-9]/.test(c)) break;
      compact += c;
      count++;
      i++;
    }
    if (count !== len || /[A-Za-z0-9]/.test(text[i] ?? '')) continue;
    // one case throughout ("GB82WEST..." or "gb82west..."): mixed case is not how IBANs are written
    const letters = compact.replace(/[^A-Za-z]/g, '');
    if (letters !== letters.toUpperCase() && letters !== letters.toLowerCase()) continue;
    if (!isIban(compact)) continue;
    out.push({ start: m.index, end: i });
    IBAN_START.lastIndex = i;
  }
  return out;
}

// ---- SSN / ITIN -----------------------------------------------------------------------------------

const NINE = /(?<![\d.-])(\d{3})([- .]?)(\d{2})\2(\d{4})(?![\d]|[.-]\d)/g;

// ---- phone numbers --------------------------------------------------------------------------------

const PHONE_NANP = /(?<![\d+])(?:(?:\+|00)?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?!\d|-\d)/g;
// separators between digit groups are mandatory, so a digit run has one way to match (no backtracking blow-up)
const PHONE_INTL = /(?<![\w+])\+[1-9]\d{0,14}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]\d{1,6}){0,6}(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?!\d|-\d)/g;
const PHONE_NATIONAL = /(?<![\d+.,/-])(?:\(\d{2,5}\)[ .-]?|\d{2,5}[ .-])\d{2,8}(?:[ .-]\d{2,4}){0,3}(?![\d]|[.,/-]\d)|(?<![\d+.,/-])\d{10,11}(?![\d]|[.,/-]\d)/g;
const DATE_LIKE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$/;

function nanpValid(d: string): boolean {
  const n = d.length === 11 ? d.slice(1) : d.length === 13 ? d.slice(3) : d;
  if (n.length !== 10) return false;
  return /^[2-9]\d\d[2-9]\d{6}$/.test(n) && !/^(\d)\1+$/.test(n);
}

/** Candidates sorted by start with the running maximum of their ends: whether a span overlaps any of
 * them is one binary search (n log n in all, where comparing with each kept one was n^2). */
interface SpanIndex {
  starts: number[];
  maxEnds: number[];
}

function spanIndex(spans: readonly Candidate[]): SpanIndex {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let mx = -1;
  return { starts: sorted.map((k) => k.start), maxEnds: sorted.map((k) => (mx = Math.max(mx, k.end))) };
}

let overlapSteps = 0;
function overlapsIndex(ix: SpanIndex, c: Candidate): boolean {
  let lo = 0;
  let hi = ix.starts.length - 1;
  let at = -1;
  while (lo <= hi) {
    overlapSteps++;
    const mid = (lo + hi) >> 1;
    if (ix.starts[mid]! < c.end) {
      at = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  overlapSteps++;
  return at >= 0 && ix.maxEnds[at]! > c.start;
}

export function findPhones(text: string): Candidate[] {
  // Three passes, earlier ones win overlaps. A pass's own candidates never overlap each other (one
  // global regex): each is checked against what earlier passes kept, indexed once per pass.
  const out: Candidate[] = [];
  let checked = 0;
  overlapSteps = 0;
  for (const m of matches(PHONE_INTL, text)) {
    const d = digitsOf(m[0].replace(/(?:x|ext\.?)\s?\d+$/, ''));
    if (d.length >= 8 && d.length <= 15) out.push({ start: m.index, end: m.index + m[0].length });
  }
  let before = out.length;
  let ix: SpanIndex | undefined;
  for (const m of matches(PHONE_NANP, text)) {
    const core = m[0].replace(/\s?(?:x|ext\.?)\s?\d+$/, '');
    const d = digitsOf(core).replace(/^00/, '');
    if (!nanpValid(d)) continue;
    const c = { start: m.index, end: m.index + m[0].length };
    checked++;
    if (before && overlapsIndex((ix ??= spanIndex(out.slice(0, before))), c)) continue;
    out.push(c);
  }
  // national formats without a country code: only with a keyword (phone, tel, call...) in proximity
  before = out.length;
  ix = undefined;
  for (const m of matches(PHONE_NATIONAL, text)) {
    const d = digitsOf(m[0]);
    if (d.length < 7 || d.length > 12 || DATE_LIKE.test(m[0]) || /^(\d)\1+$/.test(d)) continue;
    const c = { start: m.index, end: m.index + m[0].length, needsKeyword: true };
    checked++;
    if (before && overlapsIndex((ix ??= spanIndex(out.slice(0, before))), c)) continue;
    out.push(c);
  }
  work.phoneCandidates += checked;
  work.phoneOverlapSteps += overlapSteps;
  return out;
}

// ---- credentials ----------------------------------------------------------------------------------

const AWS_EXAMPLE_SECRETS = new Set(['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY']);
const AWS_SECRET = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const AWS_KEY_ID = /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g;

function findAws(text: string): Candidate[] {
  const out: Candidate[] = [];
  for (const m of matches(AWS_SECRET, text)) {
    const v = m[0];
    if (AWS_EXAMPLE_SECRETS.has(v)) continue;
    if (!/[a-z]/.test(v) || !/[A-Z]/.test(v) || !/\d/.test(v) || entropy(v) < 4) continue;
    out.push({ start: m.index, end: m.index + v.length });
  }
  for (const m of matches(AWS_KEY_ID, text)) {
    if (m[0].endsWith('EXAMPLE')) continue;
    // not in Macie's documentation (AWS_CREDENTIALS is the secret access key): ours, and under the same keyword rule
    out.push({ start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/** A PEM-like block from its BEGIN line to the matching END line (or to the end of the text). */
function pemBlock(label: RegExp): (text: string) => Candidate[] {
  const re = new RegExp(`-----BEGIN (${label.source})-----`, 'g');
  return (text) => {
    const out: Candidate[] = [];
    for (const m of matches(re, text)) {
      const endMarker = `-----END ${m[1]}-----`;
      const e = text.indexOf(endMarker, m.index);
      const end = e < 0 ? Math.min(text.length, m.index + m[0].length) : e + endMarker.length;
      out.push({ start: m.index, end });
      re.lastIndex = end;
    }
    return out;
  };
}

// ---- the identifiers -----------------------------------------------------------------------------

const CARD_KEYWORDS = ['account number', 'american express', 'amex', 'bank card', 'card', 'card num', 'card number', 'cc #', 'cc', 'ccn', 'check card', 'credit', 'credit card', 'credit card#', 'dankort', 'debit', 'debit card', 'diners club', 'discover', 'electron', 'japanese card bureau', 'jcb', 'mastercard', 'mc', 'pan', 'payment account number', 'payment card number', 'pcn', 'union pay', 'visa', 'maestro'];

export const DETECTORS: readonly Detector[] = [
  // credentials: self-delimiting formats first
  {
    priority: 0,
    meta: { id: 'OPENSSH_PRIVATE_KEY', name: 'OpenSSH private key', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: false, recommended: true, how: 'the OPENSSH PRIVATE KEY block (BEGIN to END line)' },
    find: pemBlock(/OPENSSH PRIVATE KEY/),
  },
  {
    priority: 0,
    meta: { id: 'PGP_PRIVATE_KEY', name: 'PGP private key', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: false, recommended: true, how: 'the PGP PRIVATE KEY BLOCK armour (BEGIN to END line)' },
    find: pemBlock(/PGP PRIVATE KEY BLOCK/),
  },
  {
    priority: 0,
    meta: { id: 'PKCS', name: 'Public Key Cryptography Standard (PKCS) private key', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: false, recommended: true, how: 'PEM blocks of PKCS#1/PKCS#8 private keys: PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA/DSA/EC PRIVATE KEY' },
    find: pemBlock(/(?:RSA |DSA |EC |ENCRYPTED )?PRIVATE KEY/),
  },
  {
    priority: 0,
    meta: { id: 'PUTTY_PRIVATE_KEY', name: 'PuTTY private key', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: false, recommended: true, how: 'a PuTTY-User-Key-File-2/3 header line with its key type' },
    find: byRegex(/PuTTY-User-Key-File-[23]: *[\w.@-]+/g),
  },
  {
    priority: 1,
    meta: {
      id: 'AWS_CREDENTIALS', name: 'AWS secret access key', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: true, maximumMatchDistance: 30, recommended: true,
      keywords: ['aws_secret_access_key', 'credentials', 'secret access key', 'secret key', 'set-awscredential', 'aws secret', 'secretaccesskey'],
      how: '40-character base64 secret keys (mixed case and digits, high entropy) with a keyword; also access key ids (AKIA/ASIA + 16, ours) with a keyword; the AWS documentation example keys Macie names are ignored',
    },
    find: findAws,
  },
  {
    priority: 1,
    meta: {
      id: 'GCP_API_KEY', name: 'Google Cloud API key', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: true, maximumMatchDistance: 30, recommended: false,
      // Macie's documented list (User Guide, credentials data)
      keywords: ['g_places_key', 'gcp api key', 'gcp key', 'google cloud key', 'google-api-key', 'google-cloud-apikeys', 'googlekey', 'x-goog-api-key'],
      how: 'AIza followed by 35 URL-safe base64 characters (the keyString), with a keyword',
    },
    find: byRegex(/(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/g),
  },
  {
    priority: 1,
    meta: { id: 'HTTP_BASIC_AUTH_HEADER', name: 'HTTP Basic Authorization header', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: false, recommended: true, how: '"Authorization: Basic <base64>" whose value decodes to user:password' },
    find: byRegex(/Authorization\s*[:=]\s*["']?Basic\s+([A-Za-z0-9+/]{4,}={0,2})/gi, (v) => Buffer.from(v, 'base64').toString('latin1').includes(':'), 1),
  },
  {
    priority: 1,
    meta: { id: 'HTTP_COOKIE', name: 'HTTP cookie', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: false, recommended: false, how: 'Cookie and Set-Cookie header values (name=value pairs)' },
    find: byRegex(/(?<![\w-])(?:Set-)?Cookie\s*:\s*([^\s=;]+=[^\s;]+(?:;\s*[^\s=;]+=[^\s;]*)*)/gi, () => true, 1),
  },
  {
    priority: 1,
    meta: { id: 'JSON_WEB_TOKEN', name: 'JSON Web Token', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: false, recommended: false, how: 'three base64url parts whose header decodes to JSON with "alg"' },
    find: byRegex(/(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}(?![\w-])/g, (v) => {
      try {
        return 'alg' in JSON.parse(Buffer.from(v.split('.')[0]!, 'base64url').toString('utf8'));
      } catch {
        return false;
      }
    }),
  },
  {
    priority: 1,
    meta: { id: 'STRIPE_CREDENTIALS', name: 'Stripe API key', category: 'CREDENTIALS', findingType: CRED, keywordsRequired: false, recommended: false, how: 'Stripe secret and restricted keys: sk_live_/sk_test_/rk_live_/rk_test_ followed by 24+ alphanumerics' },
    find: byRegex(/(?<![\w])(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,99}(?![\w])/g),
  },
  // financial
  {
    priority: 2,
    meta: {
      id: 'CREDIT_CARD_MAGNETIC_STRIPE', name: 'Credit card magnetic stripe data', category: 'FINANCIAL_INFORMATION', findingType: FIN, keywordsRequired: true, maximumMatchDistance: 30, recommended: true,
      // Macie requires a keyword (quick reference); its keyword list was not found: these are ours
      keywords: ['card data', 'iso 7813', 'mag', 'magstripe', 'magnetic stripe', 'stripe', 'swipe', 'track data', 'track 1', 'track 2', 'track1', 'track2'],
      how: 'ISO 7813 track 1 (%B...^NAME^YYMM...) and track 2 (;PAN=YYMM...) data whose PAN passes Luhn, with a keyword',
    },
    find: (text) => [...byRegex(TRACK1, (_v, m) => luhn(m[1]!))(text), ...byRegex(TRACK2, (_v, m) => luhn(m[1]!))(text)],
  },
  {
    priority: 3,
    meta: {
      id: 'CREDIT_CARD_NUMBER', name: 'Credit card number', category: 'FINANCIAL_INFORMATION', findingType: FIN, keywordsRequired: true, maximumMatchDistance: 30, recommended: true,
      keywords: CARD_KEYWORDS,
      how: '12-19 digits, unbroken or in groups of 3+ separated by one kind of separator (space or dash), in a network\'s issuer range and length (Visa, Mastercard incl. 2-series, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir, RuPay, UATP), passing Luhn; with a keyword in proximity (else reported as CREDIT_CARD_NUMBER_(NO_KEYWORD))',
    },
    find: findCards,
    noKeywordId: 'CREDIT_CARD_NUMBER_(NO_KEYWORD)',
  },
  {
    priority: 2,
    meta: { id: 'INTERNATIONAL_BANK_ACCOUNT_NUMBER', name: 'International bank account number (IBAN)', category: 'FINANCIAL_INFORMATION', findingType: FIN, keywordsRequired: false, recommended: false, countries: Object.keys(IBAN_LENGTHS), how: 'country code, check digits and BBAN (any case, optional single spaces/dashes), the ISO 13616 registry length for the country, ISO 7064 mod 97 = 1' },
    find: findIbans,
  },
  {
    priority: 6,
    meta: {
      id: 'BANK_ACCOUNT_NUMBER', name: 'Bank account number', category: 'FINANCIAL_INFORMATION', findingType: FIN, keywordsRequired: true, maximumMatchDistance: 30, recommended: false, countries: ['CA', 'US'],
      // Macie's documented list (User Guide, financial information); no others
      keywords: ['bank account', 'bank acct', 'checking account', 'checking acct', 'deposit account', 'deposit acct', 'savings account', 'savings acct', 'chequing account', 'chequing acct'],
      how: '9-17 digits without spaces, with a keyword',
    },
    find: byRegex(/(?<![\d-])\d{9,17}(?![\d]|-\d)/g),
  },
  {
    priority: 4,
    meta: {
      id: 'CREDIT_CARD_EXPIRATION', name: 'Credit card expiration date', category: 'FINANCIAL_INFORMATION', findingType: FIN, keywordsRequired: true, maximumMatchDistance: 30, recommended: false,
      keywords: ['exp d', 'exp m', 'exp y', 'expiration', 'expiry', 'expires', 'expiration date', 'exp date', 'valid thru', 'valid through', 'good thru', 'exp', 'expiry date', 'cc exp'],
      how: 'MM/YY, MM/YYYY, MM-YY, MM-YYYY (month 01-12), with a keyword',
    },
    find: byRegex(/(?<![\d/-])(?:0[1-9]|1[0-2])\s?[/-]\s?(?:20\d{2}|\d{2})(?![\d]|[/-]\d)/g),
  },
  {
    priority: 7,
    meta: {
      id: 'CREDIT_CARD_SECURITY_CODE', name: 'Credit card verification code', category: 'FINANCIAL_INFORMATION', findingType: FIN, keywordsRequired: true, maximumMatchDistance: 30, recommended: false,
      keywords: ['card id', 'card identification code', 'card identification number', 'card security code', 'card validation code', 'card validation number', 'card verification data', 'card verification value', 'cvc', 'cvc2', 'cvv', 'cvv2', 'csc', 'cid', 'elo verification code', 'security code', 'verification code', 'cav2'],
      how: '3 or 4 digits standing alone, with a keyword',
    },
    find: byRegex(/(?<![\d.,/-])\d{3,4}(?![\d]|[.,/-]\d)/g),
  },
  // personal
  {
    priority: 2,
    meta: {
      id: 'USA_SOCIAL_SECURITY_NUMBER', name: 'Social Security number (SSN)', category: 'PERSONAL_INFORMATION', findingType: PER, keywordsRequired: true, maximumMatchDistance: 30, recommended: true, countries: ['US'],
      keywords: ['social security', 'social security number', 'social security no', 'social security #', 'soc sec', 'ssn', 'ssn#', 'ss#', 'ssns', 'ssid', 'ss number'],
      how: 'NNN-NN-NNNN, NNN NN NNNN or NNNNNNNNN (one separator kind) with area not 000/666/9xx, group not 00, serial not 0000, not a voided advertising number; with a keyword',
    },
    find: byRegex(NINE, (v) => isSsn(digitsOf(v))),
  },
  {
    priority: 2,
    meta: {
      id: 'USA_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER', name: 'Individual Taxpayer Identification Number (ITIN)', category: 'PERSONAL_INFORMATION', findingType: PER, keywordsRequired: true, maximumMatchDistance: 30, recommended: true, countries: ['US'],
      keywords: ['itin', 'itin#', 'individual taxpayer identification', 'taxpayer identification number', 'tax id', 'tax identification number', 'taxpayer id', 'tin'],
      how: '9XX-YY-ZZZZ with YY in the IRS ranges (50-65, 70-88, 90-92, 94-99), with a keyword',
    },
    find: byRegex(NINE, (v) => isItin(digitsOf(v))),
  },
  {
    priority: 5,
    meta: {
      id: 'USA_PASSPORT_NUMBER', name: 'Passport number', category: 'PERSONAL_INFORMATION', findingType: PER, keywordsRequired: true, maximumMatchDistance: 30, recommended: true, countries: ['US'],
      keywords: ['passport', 'passport number', 'passport no', 'passport #', 'passport#', 'passportno', 'us passport', 'passport num'],
      how: '9 digits, or a letter and 8 digits, with a keyword',
    },
    find: byRegex(/(?<![A-Za-z0-9-])(?:[A-Za-z]\d{8}|\d{9})(?![A-Za-z0-9]|-\d)/g),
  },
  {
    priority: 5,
    meta: {
      id: 'DRIVERS_LICENSE', name: "Driver's license identification number (US)", category: 'PERSONAL_INFORMATION', findingType: PER, keywordsRequired: true, maximumMatchDistance: 30, recommended: true, countries: ['US'],
      keywords: ["driver's license", 'drivers license', 'driver license', "driver's licence", 'driver licence', 'drivers licence', 'driving license', 'driving licence', 'dl', 'dl#', 'dl number', 'dl no', 'dln', 'dlno', 'license number', 'licence number', 'lic#', 'license no', 'licence no'],
      how: 'state formats: 1-2 letters + 4-14 digits, 7-13 digits, and the dashed forms (A123-456-78-901-2, 123-456-789), with a keyword',
    },
    find: byRegex(/(?<![A-Za-z0-9-])(?:[A-Za-z]{1,2}\d{4,14}|\d{7,13}|[A-Za-z]\d{3}-\d{3}-\d{2}-\d{3}-\d|[A-Za-z]\d{2}-\d{2}-\d{4}|\d{3}-\d{3}-\d{3}|[A-Za-z]\d{3}-\d{4}-\d{4})(?![A-Za-z0-9]|-\d)/g),
  },
  {
    priority: 3,
    meta: { id: 'EMAIL_ADDRESS', name: 'Email address', category: 'PERSONAL_INFORMATION', findingType: PER, keywordsRequired: false, recommended: false, how: 'local-part@domain with a dot-separated domain ending in a 2-24 letter top-level domain' },
    find: byRegex(/(?<![A-Za-z0-9._%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,24}|xn--[A-Za-z0-9-]{1,59})(?![A-Za-z0-9-]|\.[A-Za-z0-9])/g, (v) => !v.split('@')[0]!.includes('..')),
  },
  {
    priority: 5,
    meta: {
      id: 'PHONE_NUMBER', name: 'Phone number', category: 'PERSONAL_INFORMATION', findingType: PER, keywordsRequired: false, maximumMatchDistance: 30, recommended: false, countries: ['BR', 'CA', 'FR', 'DE', 'IT', 'ES', 'GB', 'US'],
      keywords: ['phone', 'phone number', 'telephone', 'tel', 'tel.', 'mobile', 'cell', 'cellphone', 'call', 'fax', 'contact', 'reach me', 'text me', 'sms', 'whatsapp', 'ph', 'mob', 'landline', 'message', 'messages', 'answering', 'dial', 'ring me', 'voicemail', 'reach', 'hotline', 'extension', 'text'],
      how: 'E.164 (+country code, 8-15 digits, separators allowed) and North American numbers (valid area code and exchange, separators or parentheses) without a keyword; national formats without a country code (grouped digits, 7-12 digits, not a date) only with a keyword',
    },
    find: findPhones,
  },
  // Rules approximating Macie's NAME and ADDRESS (people.ts). Not in Macie's recommended set for jobs.
  {
    priority: 6,
    meta: {
      id: 'ADDRESS', name: 'Mailing address', category: 'PERSONAL_INFORMATION', findingType: PER, keywordsRequired: false, recommended: false, countries: ['AU', 'CA', 'FR', 'DE', 'IT', 'ES', 'GB', 'US'],
      how: 'a street line (house number, street name and type such as Street, Ave, Rd; or rue/avenue, Via/Calle, -straße forms), optional units (Apt, Suite, Unit), then a city and a postal code (US ZIP, CA, UK, AU, or a 5-digit code before the city), as Macie requires a city and a postal code',
    },
    find: (text) => findAddresses(text),
  },
  {
    priority: 8,
    meta: {
      id: 'NAME', name: 'Full name', category: 'PERSONAL_INFORMATION', findingType: PER, keywordsRequired: false, recommended: false,
      how: 'full names only, Latin script: a capitalised given name from the 1990 US Census lists, an optional middle name or initial, and a surname (a listed one, or a capitalised word that is not an everyday, street or company word); or a title (Mr, Dr...) and two capitalised words; a single name, or a name inside a longer run of capitalised words, is not reported',
    },
    find: findNames,
  },
];

/** Cheap tests a text must pass before an identifier's patterns run on it (most CSV cells fail them all). */
export const QUICK: Readonly<Record<string, RegExp>> = {
  OPENSSH_PRIVATE_KEY: /-----BEGIN/, PGP_PRIVATE_KEY: /-----BEGIN/, PKCS: /-----BEGIN/, PUTTY_PRIVATE_KEY: /PuTTY/,
  AWS_CREDENTIALS: /[A-Za-z0-9/+]{20}/, GCP_API_KEY: /AIza/, HTTP_BASIC_AUTH_HEADER: /basic/i, HTTP_COOKIE: /cookie/i,
  JSON_WEB_TOKEN: /eyJ/, STRIPE_CREDENTIALS: /k_/, CREDIT_CARD_MAGNETIC_STRIPE: /%B\d|;\d/, CREDIT_CARD_NUMBER: /\d{3}/,
  INTERNATIONAL_BANK_ACCOUNT_NUMBER: /[A-Za-z]{2}\d{2}/, BANK_ACCOUNT_NUMBER: /\d{9}/, CREDIT_CARD_EXPIRATION: /\d\s?[/-]\s?\d/,
  CREDIT_CARD_SECURITY_CODE: /\d{3}/, USA_SOCIAL_SECURITY_NUMBER: /\d{3}/, USA_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER: /9\d\d/,
  USA_PASSPORT_NUMBER: /\d{8}/, DRIVERS_LICENSE: /\d{3}/, EMAIL_ADDRESS: /@/, PHONE_NUMBER: /\d{2}/,
  ADDRESS: /\d/, NAME: /\p{Lu}[\p{Ll}. ]/u,
};

/** The managed identifiers this engine provides, with the family member reported without a keyword. */
export const MANAGED_IDENTIFIERS: readonly ManagedIdentifier[] = DETECTORS.flatMap((d) =>
  d.noKeywordId
    ? [d.meta, { ...d.meta, id: d.noKeywordId, name: `${d.meta.name} (no keyword in proximity)`, keywordsRequired: false, keywords: undefined, recommended: false, how: `the same as ${d.meta.id}, reported when no keyword is in proximity` } as ManagedIdentifier]
    : [d.meta],
);
