import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cardBrand, findSensitiveData, ibanChecksum, isCardNumber, isIban, isSsn, luhn, MANAGED_IDENTIFIERS, scanText, testCustomDataIdentifier, type ScanOptions } from '../../src/controls/dlp/index.ts';
import { resetWork, work } from '../../src/controls/dlp/work.ts';
import { breakLuhn, group4, withCheckDigit } from './helpers.ts';

const ALL: ScanOptions = { managed: { selection: 'ALL' } };
const types = (text: string, opts: ScanOptions = ALL) => findSensitiveData(text, opts).map((m) => `${m.type}=${m.value}`);

const VISA = withCheckDigit('453201511283036');
const MC2 = withCheckDigit('272099887766554');
const AMEX = withCheckDigit('37828224631000');
const DISCOVER = withCheckDigit('601155443322110');
const DINERS = withCheckDigit('3012345678901');
const UNIONPAY19 = withCheckDigit('621234567890123456');
const JCB = withCheckDigit('353011133330000');
const MAESTRO12 = withCheckDigit('50123456789');

describe('Luhn and issuer ranges', () => {
  it('luhn agrees with the check digit construction for any body', () => {
    fc.assert(fc.property(fc.stringMatching(/^\d{11,18}$/), (body) => {
      const pan = withCheckDigit(body);
      expect(luhn(pan)).toBe(true);
      expect(luhn(breakLuhn(pan))).toBe(false);
    }));
  });

  it('knows the networks and their lengths', () => {
    expect(cardBrand(VISA)).toBe('Visa');
    expect(cardBrand(MC2)).toBe('Mastercard');
    expect(cardBrand(AMEX)).toBe('American Express');
    expect(cardBrand(DISCOVER)).toBe('Discover');
    expect(cardBrand(DINERS)).toBe('Diners Club');
    expect(cardBrand(UNIONPAY19)).toBe('UnionPay');
    expect(cardBrand(JCB)).toBe('JCB');
    expect(cardBrand(MAESTRO12)).toBe('Maestro');
    expect(cardBrand(withCheckDigit('51234567890123'))).toBeUndefined(); // Mastercard is 16 digits
    expect(cardBrand(withCheckDigit('9123456789012345'))).toBeUndefined(); // no network starts with 9
    expect(isCardNumber('4444444444444448'.replace(/./g, '0'))).toBe(false); // one repeated digit
  });
});

describe('CREDIT_CARD_NUMBER', () => {
  it('finds every network raw, spaced and dashed; keyword decides the id', () => {
    for (const pan of [VISA, MC2, AMEX, DISCOVER, DINERS, UNIONPAY19, JCB]) {
      expect(types(`visa ${pan}`)).toEqual([`CREDIT_CARD_NUMBER=${pan}`]);
      expect(types(`ref ${group4(pan)} x`)).toEqual([`CREDIT_CARD_NUMBER_(NO_KEYWORD)=${group4(pan)}`]);
      expect(types(`card: ${group4(pan, '-')}`)).toEqual([`CREDIT_CARD_NUMBER=${group4(pan, '-')}`]);
    }
  });

  it('refuses Luhn failures, mixed separators, digit runs longer than a card and numbers glued to letters', () => {
    expect(types(`card ${breakLuhn(VISA)}`)).toEqual([]);
    expect(types(`card ${breakLuhn(AMEX)} and ${group4(breakLuhn(MC2))}`)).toEqual([]);
    expect(types(`card ${VISA.slice(0, 4)} ${VISA.slice(4, 8)}-${VISA.slice(8)}`)).toEqual([]);
    expect(types(`tracking 9${VISA}12345`)).toEqual([]);
    expect(types(`id X${VISA}`)).toEqual([]);
    expect(types(`amount ${VISA.slice(0, 8)}.${VISA.slice(8)}`)).toEqual([]);
  });

  it('splits adjacent numbers at separators', () => {
    const t = `cards ${VISA} ${group4(MC2)} ${group4(DISCOVER, '-')}`;
    expect(findSensitiveData(t, ALL).map((m) => m.value)).toEqual([VISA, group4(MC2), group4(DISCOVER, '-')]);
  });

  it('keyword proximity: within 30 characters before the number, case-insensitive', () => {
    expect(types(`MasterCard ${MC2}`)[0]).toMatch(/^CREDIT_CARD_NUMBER=/);
    expect(types(`credit${' '.repeat(30)}${MC2}`)[0]).toMatch(/^CREDIT_CARD_NUMBER=/);
    expect(types(`credit${' '.repeat(31)}${MC2}`)[0]).toMatch(/^CREDIT_CARD_NUMBER_\(NO_KEYWORD\)=/);
    expect(types(`${MC2} is my credit card`)[0]).toMatch(/^CREDIT_CARD_NUMBER_\(NO_KEYWORD\)=/);
    expect(types(`scorecard ${MC2}`)[0]).toMatch(/NO_KEYWORD/); // inside another word
  });

  it('expiration and security code need their keywords', () => {
    expect(types('exp 09/29 cvv 123')).toEqual(['CREDIT_CARD_EXPIRATION=09/29', 'CREDIT_CARD_SECURITY_CODE=123']);
    expect(types('meeting 09/29 room 123')).toEqual([]);
  });

  it('magnetic stripe track data', () => {
    expect(types(`swipe %B${VISA}^DOE/JANE^2912101000000000000?`)[0]).toMatch(/^CREDIT_CARD_MAGNETIC_STRIPE=/);
    expect(types(`track 2 ;${VISA}=29121010000000000?`)[0]).toMatch(/^CREDIT_CARD_MAGNETIC_STRIPE=/);
    // Macie requires a keyword for magnetic stripe data (quick reference: "Keyword required: Yes")
    expect(types(`x %B${VISA}^DOE/JANE^2912101000000000000?`).some((t) => t.startsWith('CREDIT_CARD_MAGNETIC_STRIPE='))).toBe(false);
  });
});

describe('USA_SOCIAL_SECURITY_NUMBER', () => {
  it('rules: area 000/666/9xx, group 00, serial 0000 never issued', () => {
    expect(isSsn('219456789')).toBe(true);
    for (const bad of ['000456789', '666456789', '912456789', '219006789', '219450000', '078051120']) expect(isSsn(bad)).toBe(false);
  });

  it('needs a keyword; accepts one separator kind', () => {
    expect(types('SSN: 219-45-6789')).toEqual(['USA_SOCIAL_SECURITY_NUMBER=219-45-6789']);
    expect(types('social security no. 219 45 6789')).toEqual(['USA_SOCIAL_SECURITY_NUMBER=219 45 6789']);
    expect(types('my ssn is 219456789')).toEqual(['USA_SOCIAL_SECURITY_NUMBER=219456789']);
    expect(types('ticket 219-45-6789')).toEqual([]);
    expect(types('SSN 219-45 6789')).toEqual([]);
    expect(types('SSN 666-45-6789, ssn 219-00-6789, ssn 219-45-0000')).toEqual([]);
  });

  it('ITIN has its own ranges', () => {
    expect(types('ITIN 912-70-1234')).toEqual(['USA_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER=912-70-1234']);
    expect(types('ITIN 912-40-1234')).toEqual([]);
  });
});

describe('other managed identifiers', () => {
  it('IBAN: registry length and mod 97', () => {
    const body = 'DE00' + '370400440532013000';
    // compute the check digits
    const chk = 98 - Number(BigInt([...(body.slice(4) + 'DE00')].map((c) => (/[A-Z]/.test(c) ? c.charCodeAt(0) - 55 : c)).join('')) % 97n);
    const iban = `DE${String(chk).padStart(2, '0')}${body.slice(4)}`;
    expect(ibanChecksum(iban)).toBe(true);
    expect(isIban(iban)).toBe(true);
    expect(isIban(iban + '0')).toBe(false);
    expect(types(`pay to ${iban.match(/.{1,4}/g)!.join(' ')} today`)).toEqual([`INTERNATIONAL_BANK_ACCOUNT_NUMBER=${iban.match(/.{1,4}/g)!.join(' ')}`]);
    expect(types(`pay to ${iban.slice(0, -1)}${(Number(iban.at(-1)) + 1) % 10}`)).toEqual([]);
  });

  it('email and phone numbers', () => {
    expect(types('write to jane.doe+dlp@mail.example.org.')).toEqual(['EMAIL_ADDRESS=jane.doe+dlp@mail.example.org']);
    expect(types('call (212) 555-0143 or +33 1 70 36 45 12')).toEqual(['PHONE_NUMBER=(212) 555-0143', 'PHONE_NUMBER=+33 1 70 36 45 12']);
    expect(types('tel: 030 1234 5678')).toEqual(['PHONE_NUMBER=030 1234 5678']); // national format with a keyword
    expect(types('order 030 1234 5678 shipped')).toEqual([]); // and without one
    expect(types('on 2026-01-15 version 1.2.3')).toEqual([]);
  });

  it('bank accounts, passports and driver\'s licences need keywords', () => {
    expect(types('checking account 000123456789')).toEqual(['BANK_ACCOUNT_NUMBER=000123456789']);
    expect(types('passport number: C03005988')).toEqual(['USA_PASSPORT_NUMBER=C03005988']);
    expect(types("driver's license D1234567")).toEqual(['DRIVERS_LICENSE=D1234567']); // Macie's id for the US
    expect(types('account number 000123456789')).toEqual([]); // not one of Macie's bank account keywords
    expect(types('invoice 000123456789 C03005988 D1234567')).toEqual([]);
  });

  it('credentials', () => {
    const secret = 'Zq8vR2nW5kLp0sXy7Tb3Hd9Mf1Jc4Ge6Ua8Yi2Oo';
    expect(types(`aws_secret_access_key = ${secret}`)).toEqual([`AWS_CREDENTIALS=${secret}`]);
    expect(types(`value = ${secret}`)).toEqual([]);
    expect(types('aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toEqual([]); // AWS's documentation example
    expect(types('credentials AKIA4QWERTYUIOPASDF2')).toEqual(['AWS_CREDENTIALS=AKIA4QWERTYUIOPASDF2']);
    expect(types('key AKIA4QWERTYUIOPASDF2')).toEqual([]); // AWS_CREDENTIALS needs one of Macie's keywords
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----';
    expect(types(`x\n${pem}\ny`)).toEqual([`PKCS=${pem}`]);
    expect(types('-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n-----END OPENSSH PRIVATE KEY-----')[0]).toMatch(/^OPENSSH_PRIVATE_KEY=/);
    expect(types(`stripe sk_live_${'a1B2c3D4'.repeat(3)}`)[0]).toMatch(/^STRIPE_CREDENTIALS=/);
    expect(types(`Authorization: Basic ${Buffer.from('admin:hunter2').toString('base64')}`)[0]).toMatch(/^HTTP_BASIC_AUTH_HEADER=/);
  });

  it('the recommended set as Macie documents it for jobs', () => {
    const rec = new Set(MANAGED_IDENTIFIERS.filter((m) => m.recommended).map((m) => m.id));
    // User Guide, "Managed data identifiers recommended for sensitive data discovery jobs"
    for (const id of ['AWS_CREDENTIALS', 'HTTP_BASIC_AUTH_HEADER', 'OPENSSH_PRIVATE_KEY', 'PGP_PRIVATE_KEY', 'PKCS', 'PUTTY_PRIVATE_KEY', 'CREDIT_CARD_MAGNETIC_STRIPE', 'CREDIT_CARD_NUMBER', 'DRIVERS_LICENSE']) expect(rec).toContain(id);
    for (const id of ['GCP_API_KEY', 'STRIPE_CREDENTIALS', 'HTTP_COOKIE', 'JSON_WEB_TOKEN', 'CREDIT_CARD_NUMBER_(NO_KEYWORD)', 'CREDIT_CARD_EXPIRATION', 'CREDIT_CARD_SECURITY_CODE', 'BANK_ACCOUNT_NUMBER', 'INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'EMAIL_ADDRESS', 'PHONE_NUMBER']) expect(rec).not.toContain(id);
  });

  it('every identifier has Macie metadata', () => {
    for (const m of MANAGED_IDENTIFIERS) {
      expect(m.id).toMatch(/^[A-Z0-9_()]+$/);
      expect(['FINANCIAL_INFORMATION', 'PERSONAL_INFORMATION', 'CREDENTIALS']).toContain(m.category);
      if (m.keywordsRequired) expect(m.keywords?.length).toBeGreaterThan(0);
    }
  });
});

describe('selection, allow lists, custom identifiers', () => {
  const text = `card ${VISA} mail a.b@example.com`;

  it('managed selection as a Macie job', () => {
    expect(scanText(text).map((d) => d.type)).toEqual(['CREDIT_CARD_NUMBER']); // recommended: no email
    expect(scanText(text, ALL).map((d) => d.type).sort()).toEqual(['CREDIT_CARD_NUMBER', 'EMAIL_ADDRESS']);
    // INCLUDE: only the listed ids (API reference, managedDataIdentifierSelector)
    expect(scanText(text, { managed: { selection: 'INCLUDE', ids: ['EMAIL_ADDRESS'] } }).map((d) => d.type)).toEqual(['EMAIL_ADDRESS']);
    expect(scanText(`ref ${VISA}`, { managed: { selection: 'INCLUDE', ids: ['CREDIT_CARD_NUMBER'] } })).toEqual([]); // no keyword: the other id
    expect(scanText(`ref ${VISA}`, { managed: { selection: 'INCLUDE', ids: ['CREDIT_CARD_NUMBER_(NO_KEYWORD)'] } }).map((d) => d.type)).toEqual(['CREDIT_CARD_NUMBER_(NO_KEYWORD)']);
    expect(scanText(`ref ${VISA}`)).toEqual([]); // CREDIT_CARD_NUMBER_(NO_KEYWORD) is not in the recommended set
    expect(scanText(text, { managed: { selection: 'EXCLUDE', ids: ['CREDIT_CARD_NUMBER'] } }).map((d) => d.type)).toEqual(['EMAIL_ADDRESS']);
    expect(scanText(text, { managed: { selection: 'NONE' } })).toEqual([]);
  });

  it('allow lists: words (case-insensitive, whole text) and regex', () => {
    expect(scanText(text, { ...ALL, allowLists: [{ id: 'w', criteria: { words: ['A.B@EXAMPLE.COM'] } }] }).map((d) => d.type)).toEqual(['CREDIT_CARD_NUMBER']);
    expect(scanText(text, { ...ALL, allowLists: [{ id: 'r', criteria: { regex: '@example\\.com$' } }] }).map((d) => d.type)).toEqual(['CREDIT_CARD_NUMBER']);
    expect(scanText(text, { ...ALL, allowLists: [{ id: 'r', criteria: { regex: '^4532' } }] }).map((d) => d.type)).toEqual(['EMAIL_ADDRESS']);
  });

  it('custom identifier: keywords before, maximum match distance to the end of the match, ignore words', () => {
    const ci = { regex: 'EMP-[0-9]{5}', keywords: ['employee id'], ignoreWords: ['EMP-00000'], maximumMatchDistance: 20 };
    expect(testCustomDataIdentifier(ci, 'Employee ID EMP-12345')).toBe(1);
    expect(testCustomDataIdentifier(ci, 'EMP-12345 is the employee id')).toBe(0); // keyword after
    expect(testCustomDataIdentifier(ci, 'employee id: EMP-00000')).toBe(0); // ignore word
    expect(testCustomDataIdentifier(ci, `employee id${' '.repeat(11)}EMP-12345`)).toBe(1); // 11 + 9 = 20
    expect(testCustomDataIdentifier(ci, `employee id${' '.repeat(12)}EMP-12345`)).toBe(0); // 21
    expect(testCustomDataIdentifier({ regex: 'EMP-[0-9]{5}' }, 'EMP-11111 EMP-22222 EMP-00000')).toBe(3);
    expect(testCustomDataIdentifier({ regex: 'EMP-[0-9]{5}', maximumMatchDistance: 0, keywords: ['emp'] }, 'emp EMP-11111')).toBe(0); // 1 is the floor; 9 > 1
  });

  it('custom detections in scanText carry the name and are counted', () => {
    const d = scanText('badge B-1234 and B-5678', { managed: { selection: 'NONE' }, custom: [{ id: 'cdi-1', name: 'badge', regex: 'B-\\d{4}', arn: 'arn:aws:macie2:us-east-1:111122223333:custom-data-identifier/cdi-1' }] });
    expect(d).toEqual([{ type: 'cdi-1', custom: true, name: 'badge', arn: 'arn:aws:macie2:us-east-1:111122223333:custom-data-identifier/cdi-1', count: 2, occurrences: { lineRanges: [{ start: 1, end: 1, startColumn: 7 }, { start: 1, end: 1, startColumn: 18 }] } }]);
  });

  it('refuses custom regexes that need backtracking', () => {
    expect(() => testCustomDataIdentifier({ regex: '(a+)\\1' }, 'aa')).toThrow(/backreference/);
  });

  it('occurrences: lines and columns from 1, at most maxOccurrences locations but the full count', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i} visa ${VISA}`).join('\n');
    const [d] = scanText(lines, { maxOccurrences: 15 });
    expect(d!.count).toBe(20);
    expect(d!.occurrences.lineRanges).toHaveLength(15);
    expect(d!.occurrences.lineRanges![3]).toEqual({ start: 4, end: 4, startColumn: 13 });
  });
});

describe('hostile inputs', () => {
  it('stays near-linear on inputs built to make patterns backtrack or to flood the overlap check', () => {
    const inputs = ['+1111111111111111111111111111111 '.repeat(10_000), '1 '.repeat(200_000) + 'a', 'a.'.repeat(200_000) + '@', 'cvv 123 '.repeat(50_000), 'GB82 '.repeat(50_000)];
    // No time threshold (the machine may be loaded): catastrophic backtracking would not finish within
    // the test's timeout; the speed itself is measured by `npm run bench:dlp`.
    for (const t of inputs) expect(Array.isArray(scanText(t, ALL))).toBe(true);
  }, 120_000);
});

describe('bounded work on hostile input (work counters, not time)', () => {
  it('custom identifier keywords are looked for only in the window before each match', () => {
    const ci = { id: 'cdi-b', name: 'badge', regex: 'B-\\d{4}', keywords: ['badge'], maximumMatchDistance: 20 };
    const opts: ScanOptions = { managed: { selection: 'NONE' }, custom: [ci] };
    const n = 20_000;
    const text = 'B-1234 '.repeat(n);
    resetWork();
    expect(scanText(text, opts)).toEqual([]);
    // each match looks at most at distance + longest keyword characters (the old search ran to the end of the text)
    expect(work.customKeywordChars).toBeGreaterThan(0);
    expect(work.customKeywordChars).toBeLessThanOrEqual(n * (20 + 'badge'.length));
    // the window is exact: a keyword ending 20 characters before the match end counts, 21 does not
    expect(testCustomDataIdentifier(ci, `badge${' '.repeat(14)}B-1234`)).toBe(1);
    expect(testCustomDataIdentifier(ci, `badge${' '.repeat(15)}B-1234`)).toBe(0);
    expect(scanText(`${text}badge B-9999`, opts)[0]?.count).toBe(1);
  });

  it('the phone overlap check is n log n, with the same result', () => {
    const n = 20_000;
    const text = 'call +1 212 555 0143 or (415) 555-0199 tel 030 1234567; '.repeat(n);
    resetWork();
    const found = findSensitiveData(text, ALL).filter((m) => m.type === 'PHONE_NUMBER');
    expect(found).toHaveLength(3 * n);
    expect(found.slice(0, 3).map((m) => m.value)).toEqual(['+1 212 555 0143', '(415) 555-0199', '030 1234567']);
    // every candidate of every pass (more than the numbers kept: national formats also match inside
    // the others) costs one binary search over the kept ones; the old check compared it with each
    const c = work.phoneCandidates;
    expect(c).toBeGreaterThanOrEqual(3 * n);
    expect(work.phoneOverlapSteps).toBeLessThanOrEqual(c * (Math.ceil(Math.log2(3 * n)) + 2));
  });
});
