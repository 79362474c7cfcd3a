// The lab's company: Contoso Pay, a payments and travel-booking company whose customer data lives in S3
// in several formats. Names, the environment's shape, the company's own identifier formats and the
// generators of every file the account starts with. All data is drawn from a `Random` (the session's
// seeded generator, src/engine/random.ts): the same seed gives the same bytes.
//
// Nothing here is real: names are common given names and surnames, card numbers are Luhn-valid numbers
// in real issuer ranges but drawn at random, SSNs have issuable areas/groups/serials but are drawn at
// random, IBANs have valid check digits over random bank codes and accounts.
import { parquetWriteBuffer } from 'hyparquet-writer';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Random } from '../../src/engine/random.ts';

export const COMPANY = 'Contoso Pay';
/** The analytics partner: allowed de-identified data only (analytics-exports/deidentified/*). */
export const PARTNER = 'Litware Insights';
/** Where de-identified data for the partner is written in the analytics-exports bucket. */
export const PARTNER_PREFIX = 'deidentified/';
/** The company's application role: reads customer data, writes support logs. */
export const APP_ROLE = 'contoso-app';
/** The nightly export job: reads customer data, writes de-identified data for the partner. */
export const EXPORTER_ROLE = 'contoso-analytics-exporter';
/** The role in the partner's own account that reads the exports (cross-account). */
export const PARTNER_READER_ROLE = 'litware-ingest';
/** The data analysts' role (they sign in to it from the office): broad S3 access as provisioned. */
export const ANALYST_ROLE = 'contoso-analyst';
/** The company's VPC, where its apps run and reach S3 through a gateway endpoint. */
export const VPC_CIDR = '10.40.0.0/16';
/** The partner's egress addresses (where its ingest job calls from). */
export const PARTNER_CIDR = '198.51.100.0/26';
/**
 * How long after sensitive data lands in a watched bucket it must be found and out of circulation
 * (quarantined): a daily classification job runs at 00:00 UTC, so any drop is analysed within 24 hours;
 * one more hour for the finding to reach the responder.
 */
export const QUARANTINE_DEADLINE_MS = 25 * 3600_000;
/** The month the data is from (lab-clock independent: file names only). */
export const DATA_MONTH = '2026-11';

/** The company's own identifier formats (Macie has no managed identifier for them: custom data identifiers). */
export const FORMATS = {
  customerId: {
    description: 'Contoso Pay customer id: CP-CUST- followed by 8 digits',
    regex: 'CP-CUST-[0-9]{8}',
    keywords: ['customer', 'customer_id', 'cust'],
  },
  cardReference: {
    description: 'Contoso Pay card reference (a token standing for a card number): cref_ followed by 24 base32 characters (a-z, 2-7)',
    regex: 'cref_[a-z2-7]{24}',
    keywords: ['card_ref', 'cref', 'card reference'],
  },
} as const;

/** The role of each bucket (bucket names carry the run id: see DlpLabEnv.buckets). */
export type BucketRole = 'customerData' | 'supportLogs' | 'analyticsExports' | 'staging' | 'qaFixtures' | 'quarantine';

export const BUCKET_PREFIX: Record<BucketRole, string> = {
  customerData: 'contoso-customer-data',
  supportLogs: 'contoso-support-logs',
  analyticsExports: 'contoso-analytics-exports',
  staging: 'contoso-staging',
  qaFixtures: 'contoso-qa-fixtures',
  quarantine: 'contoso-quarantine',
};

/** What each bucket is for and what it holds as the student finds it. */
export const BUCKET_PURPOSE: Record<BucketRole, string> = {
  // Raw PII and PCI: the customer master data as CSV, the payment events as JSON Lines, a warehouse
  // snapshot as JSON. Names, emails, phones, card numbers (Luhn, real issuer ranges), expiry dates,
  // SSNs, IBANs, customer ids and card references. Read by the company's app (contoso-app) and exporter.
  customerData: 'customer master data and payment events (raw PII and PCI)',
  // Application and support-desk logs. Most lines are harmless; some smuggle PII: a debug line that
  // dumps a charge payload with a card number, support tickets where customers type their SSN or card.
  // One older day is gzipped. Legacy bucket: ACLs enabled (ObjectWriter), no bucket-level Block Public Access.
  supportLogs: 'application and support-desk logs (PII smuggled inside some lines); legacy bucket with ACLs enabled',
  // De-identified data for the analytics partner under deidentified/: card references (cref_...),
  // SHA-256 of emails, salted customer tokens, country, amounts. No raw PII. internal/ holds the
  // company's own aggregates (not for the partner).
  analyticsExports: 'de-identified exports for the analytics partner (deidentified/) and internal aggregates (internal/)',
  // Empty: where data drops land (uploads from support, ad-hoc extracts). Must be watched.
  staging: 'landing zone for data drops (empty)',
  // QA test data that only looks sensitive: the networks' published test card numbers, example.com
  // emails, SSNs in area 000 (never issued), 555-01xx phone numbers. An allow list should cover it.
  qaFixtures: 'QA test fixtures that only look sensitive (published test cards, example.com, 000-xx SSNs)',
  // Empty: where the quarantine responder moves what it takes out of circulation.
  quarantine: 'quarantine for objects found to hold sensitive data where they should not (empty)',
};

export interface DlpLabEnv {
  company: string;
  region: string;
  accountId: string;
  /** Bucket names by role. */
  buckets: Record<BucketRole, string>;
  /** What each bucket is for (see BUCKET_PURPOSE). */
  purposes: Record<BucketRole, string>;
  /** The legacy bucket whose Object Ownership is ObjectWriter (ACLs enabled). */
  legacyAclBucket: string;
  /** The company's own identifier formats, for custom data identifiers. */
  formats: { customerId: { description: string; example: string }; cardReference: { description: string; example: string } };
  /** The company's workloads and the roles they run with (in this account). */
  apps: {
    app: { roleName: string; roleArn: string; reads: string[]; writes: string[] };
    exporter: { roleName: string; roleArn: string; reads: string[]; writes: string[] };
  };
  /** The analytics partner: may read analytics-exports/deidentified/* (and nothing else) from its own account. */
  partner: { name: string; accountId: string; readerRoleName: string; readerRoleArn: string; allowedPrefix: string };
  /** The objects the account starts with: bucket role → keys. */
  objects: Record<BucketRole, string[]>;
  /** The data analysts: sign in to this role from the office network; read customer data, write internal/ aggregates. */
  analysts: { roleName: string; roleArn: string; reads: string[]; writes: string[] };
  /**
   * Where legitimate access comes from: the office (analysts) and the company's VPC, whose apps reach
   * S3 through the gateway endpoint s3EndpointId (aws:SourceVpce); the partner calls from partnerCidr.
   */
  network: { officeCidr: string; vpcId: string; vpcCidr: string; s3EndpointId: string; partnerCidr: string };
  /** Sensitive data landing in a watched bucket must be quarantined within this many lab-clock ms. */
  quarantineDeadlineMs: number;
}

export function dlpEnv(env: Record<string, unknown>): DlpLabEnv {
  return env as unknown as DlpLabEnv;
}

// ---- people and identifiers ----

const FIRST = ['Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Mateo', 'Sofia', 'Lucas', 'Mia', 'Ethan', 'Aisha', 'Hiroshi', 'Priya', 'Kwame', 'Elena', 'Omar', 'Chloe', 'Diego', 'Hannah', 'Ravi', 'Zoe', 'Jonas', 'Leila', 'Samuel', 'Grace', 'Tomas', 'Ingrid', 'Yusuf', 'Nora', 'Felix'];
const LAST = ['Smith', 'Johnson', 'Garcia', 'Nguyen', 'Patel', 'Kim', 'Müller', 'Rossi', 'Okafor', 'Silva', 'Andersson', 'Kowalski', 'Haddad', 'Tanaka', 'Brown', 'Martinez', 'Dubois', 'Jensen', 'Novak', 'Reyes', 'Campbell', 'Fischer', 'Ivanova', 'Mensah', 'Larsen', 'Hughes', 'Moreau', 'Chen', 'Schmidt', 'Walker'];
const MAIL_DOMAINS = ['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me', 'icloud.com', 'fastmail.com', 'gmx.de', 'hotmail.co.uk'];
const COUNTRIES = ['US', 'US', 'US', 'GB', 'DE', 'FR', 'ES', 'NL'];
/** Area codes in service (NANPA). */
const AREA_CODES = [212, 206, 213, 305, 312, 404, 415, 503, 512, 617, 646, 702, 720, 773, 818, 917];
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

const digits = (rng: Random, n: number) => Array.from({ length: n }, () => rng.int(0, 9)).join('');
const pad = (n: number, w: number) => String(n).padStart(w, '0');

/** The Luhn check digit that completes `body`. */
export function luhnCheckDigit(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = body.charCodeAt(body.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** The networks' published test card numbers (Stripe, Adyen, Braintree, PayPal documentation). */
export const TEST_CARD_NUMBERS = [
  '4111111111111111', '4242424242424242', '4012888888881881', '5555555555554444', '5105105105105100',
  '2223003122003222', '378282246310005', '371449635398431', '6011111111111117', '3530111333300000',
];

/** A card number from a real issuer range with a valid Luhn digit: Visa, Mastercard (51-55, 2221-2720), Amex, Discover. Never a published test number. */
export function cardNumber(rng: Random): string {
  for (;;) {
    const kind = rng.pick(['visa', 'visa', 'mc', 'mc2', 'amex', 'discover'] as const);
    let prefix: string, len: number;
    if (kind === 'visa') [prefix, len] = ['4', 16];
    else if (kind === 'mc') [prefix, len] = [String(rng.int(51, 55)), 16];
    else if (kind === 'mc2') [prefix, len] = [String(rng.int(2221, 2720)), 16];
    else if (kind === 'amex') [prefix, len] = [rng.pick(['34', '37']), 15];
    else [prefix, len] = ['6011', 16];
    const body = prefix + digits(rng, len - 1 - prefix.length);
    const pan = body + luhnCheckDigit(body);
    if (!TEST_CARD_NUMBERS.includes(pan) && !/^(\d)\1+$/.test(pan)) return pan;
  }
}

/** A card number formatted as people type it (groups of 4; Amex 4-6-5). */
export function groupCard(pan: string, sep = ' '): string {
  return pan.length === 15 ? [pan.slice(0, 4), pan.slice(4, 10), pan.slice(10)].join(sep) : pan.match(/.{1,4}/g)!.join(sep);
}

/** A US SSN with an issuable area (001-665, 667-899), group 01-99, serial 0001-9999; never a voided number. */
export function ssn(rng: Random): string {
  for (;;) {
    const area = rng.int(1, 899);
    if (area === 666) continue;
    const s = `${pad(area, 3)}-${pad(rng.int(1, 99), 2)}-${pad(rng.int(1, 9999), 4)}`;
    if (!['078-05-1120', '219-09-9999', '123-45-6789'].includes(s)) return s;
  }
}

/** ISO 7064 mod 97-10 check digits for a country and BBAN. */
function ibanCheck(country: string, bban: string): string {
  const s = (bban + country + '00').toUpperCase();
  let rem = 0;
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    rem = c >= 65 ? (rem * 100 + (c - 55)) % 97 : (rem * 10 + (c - 48)) % 97;
  }
  return pad(98 - rem, 2);
}

/** A GB (22) or DE (22) IBAN with valid check digits. */
export function iban(rng: Random): string {
  const country = rng.pick(['GB', 'DE'] as const);
  const bban = country === 'GB'
    ? rng.pick(['NWBK', 'BARC', 'LOYD', 'HBUK', 'MIDL']) + digits(rng, 14)
    : digits(rng, 18);
  return country + ibanCheck(country, bban) + bban;
}

/** A North American number in service ranges: +1 AAA EEE NNNN (exchange not N11, not 555). */
export function phone(rng: Random): string {
  for (;;) {
    const ex = rng.int(200, 999);
    if (ex % 100 === 11 || ex === 555) continue;
    return `+1-${rng.pick(AREA_CODES)}-${ex}-${digits(rng, 4)}`;
  }
}

export const customerId = (rng: Random) => `CP-CUST-${digits(rng, 8)}`;
export const cardReference = (rng: Random) => `cref_${Array.from({ length: 24 }, () => BASE32[rng.int(0, 31)]).join('')}`;

export interface Customer {
  customerId: string;
  name: string;
  email: string;
  phone: string;
  country: string;
  dateOfBirth: string;
  ssn: string;
  cardNumber: string;
  cardExpiry: string;
  cardRef: string;
  iban: string;
}

export function customers(rng: Random, n: number): Customer[] {
  const out: Customer[] = [];
  const ids = new Set<string>();
  while (out.length < n) {
    const id = customerId(rng);
    if (ids.has(id)) continue;
    ids.add(id);
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const local = `${first}.${last}`.toLowerCase().normalize('NFD').replace(/[^a-z.]/g, '') + (rng.next() < 0.5 ? String(rng.int(1, 99)) : '');
    out.push({
      customerId: id,
      name: `${first} ${last}`,
      email: `${local}@${rng.pick(MAIL_DOMAINS)}`,
      phone: phone(rng),
      country: rng.pick(COUNTRIES),
      dateOfBirth: `${rng.int(1950, 2004)}-${pad(rng.int(1, 12), 2)}-${pad(rng.int(1, 28), 2)}`,
      ssn: ssn(rng),
      cardNumber: cardNumber(rng),
      cardExpiry: `${pad(rng.int(1, 12), 2)}/${rng.int(27, 31)}`,
      cardRef: cardReference(rng),
      iban: iban(rng),
    });
  }
  return out;
}

// ---- the files ----

export interface SeedObject {
  key: string;
  body: string | Uint8Array;
  contentType: string;
  /** What a reviewer would say the object holds (ground truth for the grader; managed identifier ids and custom formats). */
  holds: string[];
}

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const csv = (header: string[], rows: string[][]) => [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The lab's data set: customers drawn once from `rng`, every file derived from them. */
export interface Dataset {
  customers: Customer[];
  objects: Record<BucketRole, SeedObject[]>;
}

export function dataset(rng: Random): Dataset {
  const people = customers(rng.fork('customers'), 40);
  return {
    customers: people,
    objects: {
      customerData: customerDataObjects(rng.fork('customer-data'), people),
      supportLogs: supportLogObjects(rng.fork('support-logs'), people),
      analyticsExports: analyticsObjects(rng.fork('analytics'), people),
      staging: [],
      qaFixtures: qaFixtureObjects(rng.fork('qa')),
      quarantine: [],
    },
  };
}

/** customer-data: the master file (CSV), the month's payment events (JSON Lines), a warehouse snapshot (Parquet). */
export function customerDataObjects(rng: Random, people: Customer[]): SeedObject[] {
  const master = csv(
    ['customer_id', 'name', 'email', 'phone', 'country', 'date_of_birth', 'ssn', 'card_number', 'card_expiry', 'card_ref'],
    people.map((c) => [c.customerId, c.name, c.email, c.phone, c.country, c.dateOfBirth, c.ssn, c.cardNumber, c.cardExpiry, c.cardRef]),
  );
  const events: string[] = [];
  for (let day = 1; day <= 30; day++) {
    for (let k = rng.int(1, 3); k > 0; k--) {
      const c = rng.pick(people);
      events.push(JSON.stringify({
        event: 'payment.captured', at: `${DATA_MONTH}-${pad(day, 2)}T${pad(rng.int(0, 23), 2)}:${pad(rng.int(0, 59), 2)}:00Z`,
        customer_id: c.customerId, card: { number: c.cardNumber, expiry: c.cardExpiry, ref: c.cardRef },
        amount: { value: rng.int(1500, 250000) / 100, currency: rng.pick(['USD', 'EUR', 'GBP']) },
        merchant: rng.pick(['Contoso Air', 'Fabrikam Hotels', 'Northwind Rail', 'Tailspin Tours']),
      }));
    }
  }
  // The data warehouse's export: a Parquet file, as warehouses write them (one column per field).
  const column = (name: string, pick: (c: Customer) => string) => ({ name, data: people.map(pick), type: 'STRING' as const });
  const snapshot = new Uint8Array(parquetWriteBuffer({ columnData: [
    column('customer_id', (c) => c.customerId), column('name', (c) => c.name), column('email', (c) => c.email),
    column('phone', (c) => c.phone), column('ssn', (c) => c.ssn), column('payout_iban', (c) => c.iban), column('card_number', (c) => c.cardNumber),
  ] }));
  return [
    { key: `customers/customers-${DATA_MONTH}.csv`, body: master, contentType: 'text/csv', holds: ['NAME', 'EMAIL_ADDRESS', 'PHONE_NUMBER', 'USA_SOCIAL_SECURITY_NUMBER', 'CREDIT_CARD_NUMBER', 'CREDIT_CARD_EXPIRATION', 'customerId', 'cardReference'] },
    { key: `payments/events-${DATA_MONTH}.jsonl`, body: events.join('\n') + '\n', contentType: 'application/x-ndjson', holds: ['CREDIT_CARD_NUMBER', 'CREDIT_CARD_EXPIRATION', 'customerId', 'cardReference'] },
    { key: 'warehouse/customers-snapshot.parquet', body: snapshot, contentType: 'application/vnd.apache.parquet', holds: ['NAME', 'EMAIL_ADDRESS', 'PHONE_NUMBER', 'USA_SOCIAL_SECURITY_NUMBER', 'CREDIT_CARD_NUMBER', 'INTERNATIONAL_BANK_ACCOUNT_NUMBER', 'customerId'] },
  ];
}

/** support-logs: two days of the payment API's log (one gzipped) and the support desk's ticket log, some lines leaking PII. */
export function supportLogObjects(rng: Random, people: Customer[]): SeedObject[] {
  const rid = () => Array.from({ length: 12 }, () => '0123456789abcdef'[rng.int(0, 15)]).join('');
  const apiLog = (day: number) => {
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) {
      const c = rng.pick(people);
      const t = `${DATA_MONTH}-${pad(day, 2)}T${pad(8 + Math.floor(i / 6), 2)}:${pad((i % 6) * 10 + rng.int(0, 9), 2)}:${pad(rng.int(0, 59), 2)}Z`;
      // at least one leak per file whatever the seed (the 8th line), more at random
      const r = i === 7 ? 0 : rng.next();
      if (r < 0.08) {
        // the leak: a debug line dumping the charge request as received
        lines.push(`${t} DEBUG payment-api request_id=${rid()} charge payload={"customer_id":"${c.customerId}","card_number":"${c.cardNumber}","exp":"${c.cardExpiry}"}`);
      } else if (r < 0.15) {
        lines.push(`${t} WARN payment-api request_id=${rid()} card declined customer=${c.customerId} card_ref=${c.cardRef} code=05`);
      } else {
        lines.push(`${t} INFO payment-api request_id=${rid()} POST /v1/charges status=201 customer=${c.customerId} card_ref=${c.cardRef} latency_ms=${rng.int(40, 900)}`);
      }
    }
    return lines.join('\n') + '\n';
  };
  const tickets: string[] = [];
  for (let i = 0; i < 25; i++) {
    const c = rng.pick(people);
    const t = `${DATA_MONTH}-${pad(rng.int(1, 30), 2)}T${pad(rng.int(8, 19), 2)}:${pad(rng.int(0, 59), 2)}:00Z`;
    // at least one SSN and one card typed by a customer whatever the seed, more at random
    const r = i === 3 ? 0 : i === 11 ? 0.2 : rng.next();
    const msg = r < 0.15 ? `customer wrote: "please verify me, my SSN is ${c.ssn}"`
      : r < 0.3 ? `customer wrote: "charge on my credit card ${groupCard(c.cardNumber)} is wrong"`
      : r < 0.4 ? `customer asked to be called back at ${c.phone}`
      : rng.pick(['refund issued', 'booking moved to next week', 'password reset link sent', 'invoice re-sent', 'closed: duplicate']);
    tickets.push(`${t} ticket=SUP-${rng.int(10000, 99999)} agent=${rng.pick(['mlopez', 'jchen', 'asingh', 'bkowalski'])} customer=${c.customerId} ${msg}`);
  }
  return [
    { key: `payment-api/${DATA_MONTH}-29.log`, body: apiLog(29), contentType: 'text/plain', holds: ['CREDIT_CARD_NUMBER', 'customerId', 'cardReference'] },
    { key: `payment-api/${DATA_MONTH}-28.log.gz`, body: new Uint8Array(gzipSync(apiLog(28))), contentType: 'application/gzip', holds: ['CREDIT_CARD_NUMBER', 'customerId', 'cardReference'] },
    { key: `support-desk/tickets-${DATA_MONTH}.log`, body: tickets.sort().join('\n') + '\n', contentType: 'text/plain', holds: ['USA_SOCIAL_SECURITY_NUMBER', 'CREDIT_CARD_NUMBER', 'PHONE_NUMBER', 'customerId'] },
  ];
}

/** analytics-exports: de-identified transactions for the partner, and the company's own daily aggregates. */
export function analyticsObjects(rng: Random, people: Customer[]): SeedObject[] {
  const salt = digits(rng, 16);
  const rows: string[][] = [];
  for (let i = 0; i < 120; i++) {
    const c = rng.pick(people);
    rows.push([
      `${DATA_MONTH}-${pad(rng.int(1, 30), 2)}`, c.cardRef, sha256(c.email.toLowerCase()), `tok_${sha256(salt + c.customerId).slice(0, 20)}`,
      c.country, (rng.int(1500, 250000) / 100).toFixed(2), rng.pick(['USD', 'EUR', 'GBP']), rng.pick(['air', 'hotel', 'rail', 'tour']),
    ]);
  }
  const daily = Array.from({ length: 30 }, (_, d) => [`${DATA_MONTH}-${pad(d + 1, 2)}`, String(rng.int(800, 2400)), (rng.int(5_000_000, 40_000_000) / 100).toFixed(2)]);
  return [
    {
      key: `${PARTNER_PREFIX}transactions-${DATA_MONTH}.csv`,
      body: csv(['date', 'card_ref', 'email_sha256', 'customer_token', 'country', 'amount', 'currency', 'category'], rows),
      contentType: 'text/csv', holds: ['cardReference'],
    },
    { key: `internal/daily-volumes-${DATA_MONTH}.csv`, body: csv(['date', 'transactions', 'gross_volume'], daily), contentType: 'text/csv', holds: [] },
  ];
}

/** qa-fixtures: test data that only looks sensitive (what an allow list should cover). */
export function qaFixtureObjects(rng: Random): SeedObject[] {
  const rows: string[][] = [];
  for (let i = 1; i <= 20; i++) {
    rows.push([
      `test-user-${pad(i, 3)}`, `Test User ${i}`, `qa.user+${i}@example.com`, `+1-${rng.pick(AREA_CODES)}-555-01${pad(rng.int(0, 99), 2)}`,
      `000-${pad(rng.int(1, 99), 2)}-${pad(rng.int(1, 9999), 4)}`, rng.pick(TEST_CARD_NUMBERS), `${pad(rng.int(1, 12), 2)}/${rng.int(30, 34)}`,
    ]);
  }
  const cases = rows.slice(0, 8).map(([id, , email, , , card]) => JSON.stringify({ case: `checkout-${id}`, email, card_number: card, expect: rng.pick(['approved', 'declined', '3ds_challenge']) }));
  return [
    { key: 'fixtures/test-customers.csv', body: csv(['id', 'name', 'email', 'phone', 'ssn', 'card_number', 'card_expiry'], rows), contentType: 'text/csv', holds: ['TEST_DATA'] },
    { key: 'fixtures/checkout-cases.jsonl', body: cases.join('\n') + '\n', contentType: 'application/x-ndjson', holds: ['TEST_DATA'] },
  ];
}
