// NAME and ADDRESS (src/controls/dlp/people.ts). Test sentences are written here; nothing comes from the datasets.
import { describe, expect, it } from 'vitest';
import { findSensitiveData, MANAGED_IDENTIFIERS, scanObject, type ScanOptions } from '../../src/controls/dlp/index.ts';
import { enabledManagedIds } from '../../src/controls/dlp/engine.ts';
import { findAddresses } from '../../src/controls/dlp/people.ts';
import { resetWork, work } from '../../src/controls/dlp/work.ts';

const ALL: ScanOptions = { managed: { selection: 'ALL' } };
const found = (id: string, text: string) => findSensitiveData(text, ALL).filter((m) => m.type === id).map((m) => m.value);

describe('NAME (full names only, as Macie)', () => {
  it('finds a given name and a surname, with a middle name or initial, a possessive left out', () => {
    expect(found('NAME', 'Please call John Smith tomorrow.')).toEqual(['John Smith']);
    expect(found('NAME', 'Signed by Mary J. Watson and Robert Lee Brown.')).toEqual(['Mary J. Watson', 'Robert Lee Brown']);
    expect(found('NAME', "It was Linda Kowalczyk's idea.")).toEqual(['Linda Kowalczyk']);
    expect(found('NAME', 'Dr. Wojtek Brzęczyszczykiewicz will see you.')).toEqual(['Wojtek Brzęczyszczykiewicz']);
  });

  it('names missing from the US lists: after a cue, with a middle initial, or before a listed surname', () => {
    expect(found('NAME', 'My name is Krisztián Szöllösy.')).toEqual(['Krisztián Szöllösy']);
    expect(found('NAME', 'Name: Szabina Gelencsér')).toEqual(['Szabina Gelencsér']);
    expect(found('NAME', 'Ask Bekbolat K. Musliyevich about it.')).toEqual(['Bekbolat K. Musliyevich']);
    expect(found('NAME', 'We hired Bonifacy Kaczmarek last year.')).toEqual(['Bonifacy Kaczmarek']);
    // a comma after a number is not a house number ("5850 Jana Nerudy" is a street; "id,Name Surname" is a row)
    expect(found('NAME', 'CP-CUST-60650153,Elena Jensen,elena.jensen@example.com')).toEqual(['Elena Jensen']);
  });

  it('reports no single names, lowercase words, places, companies, streets or longer proper nouns', () => {
    for (const t of ['John called.', 'john smith called', 'She moved here from United States.', 'The Princess Royal arrived.', 'Russell Investments is an agency.', 'Meet me at 12 Millicent Drive', 'the corner of 5850 Jana Nerudy', 'In Estonia they have company shares', 'The John Smith Memorial Foundation', 'May I pay by Credit Card?', 'Thank You', 'Dear Customer', '"merchant":"Northwind Rail"']) {
      expect(found('NAME', t), t).toEqual([]);
    }
  });
});

describe('ADDRESS (a street, then a city and a postal code, as Macie requires)', () => {
  it('US, UK, CA, AU, FR, IT, ES, DE forms and US military and PO box addresses', () => {
    expect(found('ADDRESS', 'Send it to 1600 Pennsylvania Avenue NW, Washington, DC 20500 today')).toEqual(['1600 Pennsylvania Avenue NW, Washington, DC 20500']);
    expect(found('ADDRESS', 'Ship to 350 5th Ave Suite 3300\nNew York, NY 10118-0110.')).toEqual(['350 5th Ave Suite 3300\nNew York, NY 10118-0110']);
    expect(found('ADDRESS', 'Office: 221B Baker Street, London NW1 6XE')).toEqual(['221B Baker Street, London NW1 6XE']);
    expect(found('ADDRESS', 'at 290 Bremner Blvd, Toronto, ON M5V 3L9')).toEqual(['290 Bremner Blvd, Toronto, ON M5V 3L9']);
    expect(found('ADDRESS', 'at 12 rue de la Paix, 75002 Paris')).toEqual(['12 rue de la Paix, 75002 Paris']);
    expect(found('ADDRESS', 'in Via delle Coste 41, 00184 Roma')).toEqual(['Via delle Coste 41, 00184 Roma']);
    expect(found('ADDRESS', 'en Calle Mayor 5, 28013 Madrid')).toEqual(['Calle Mayor 5, 28013 Madrid']);
    expect(found('ADDRESS', 'Hauptstraße 5, 10115 Berlin')).toEqual(['Hauptstraße 5, 10115 Berlin']);
    expect(found('ADDRESS', 'PSC 1234, Box 5678\nAPO AE 09012')).toEqual(['PSC 1234, Box 5678\nAPO AE 09012']);
    expect(found('ADDRESS', 'P.O. Box 149, Springfield, IL 62704')).toEqual(['P.O. Box 149, Springfield, IL 62704']);
  });

  it('a street line without a city and postal code is not reported (Macie\'s rule); findAddresses can be asked for it', () => {
    expect(found('ADDRESS', 'Jacob lives on 90 Whitchurch Road.')).toEqual([]);
    expect(findAddresses('Jacob lives on 90 Whitchurch Road.', { requirePostal: false }).length).toBe(1);
    for (const t of ['I have 3 Green apples and 2 Big Oranges', 'Order 12345 shipped on 2026-01-05', 'Room 12, Building 4', 'version 2 Way Forward']) {
      expect(found('ADDRESS', t), t).toEqual([]);
    }
  });

  it('structured data: a CSV cell holding an address', async () => {
    const csv = 'id,shipping\n1,"42 Elm Street, Springfield, IL 62704"\n';
    const r = await scanObject('a.csv', new TextEncoder().encode(csv), ALL);
    expect(r.detections.find((d) => d.type === 'ADDRESS')?.count).toBe(1);
  });
});

describe('NAME and ADDRESS in the identifier table', () => {
  it('Macie ids, personal information, no keyword, not in the recommended set', () => {
    for (const id of ['NAME', 'ADDRESS']) {
      const m = MANAGED_IDENTIFIERS.find((x) => x.id === id)!;
      expect(m.category).toBe('PERSONAL_INFORMATION');
      expect(m.findingType).toBe('SensitiveData:S3Object/Personal');
      expect(m.keywordsRequired).toBe(false);
      expect(m.recommended).toBe(false);
      expect(enabledManagedIds({}).has(id)).toBe(false);
      expect(enabledManagedIds(ALL).has(id)).toBe(true);
    }
    expect(MANAGED_IDENTIFIERS.find((x) => x.id === 'ADDRESS')!.countries).toEqual(['AU', 'CA', 'FR', 'DE', 'IT', 'ES', 'GB', 'US']);
    // a job with the recommended set reports neither
    expect(findSensitiveData('John Smith, 1600 Pennsylvania Avenue NW, Washington, DC 20500', {}).filter((m) => m.type === 'NAME' || m.type === 'ADDRESS')).toEqual([]);
  });
});

describe('NAME and ADDRESS: bounded work on hostile input (work counters, not time)', () => {
  const n = 100_000;
  it('every capitalised word is looked at once; street lines at most once per house number', () => {
    resetWork();
    findSensitiveData('John '.repeat(n), { managed: { selection: 'INCLUDE', ids: ['NAME'] } });
    expect(work.nameTokens).toBe(n);
    resetWork();
    const streets = '1 Main St, '.repeat(n);
    expect(findAddresses(streets, { requirePostal: false }).length).toBe(n);
    expect(work.addressCandidates).toBe(n);
  });

  it('inputs built to make the word and street patterns backtrack finish (no time threshold: a blow-up would not finish within the timeout)', () => {
    const inputs = ['Ab' + '-AB'.repeat(n) + '1', '1 Main St ' + 'A-'.repeat(n) + '1', '1 Aa Bb Cc Dd '.repeat(n / 4), 'A'.repeat(5 * n), 'Aweg ' + 'Aa-'.repeat(n), 'Via ' + 'Aa-'.repeat(n) + ' 5', '1 ' + 'A.'.repeat(n) + ' St', '1 Main St, ' + 'Aa '.repeat(n) + '1'];
    for (const t of inputs) {
      expect(Array.isArray(findSensitiveData(t, { managed: { selection: 'INCLUDE', ids: ['NAME', 'ADDRESS'] } }))).toBe(true);
      expect(Array.isArray(findAddresses(t, { requirePostal: false }))).toBe(true);
    }
  }, 120_000);
});
