// The DLP engine's public model, shaped after Amazon Macie (Macie2 API, 2020-01-01): managed data
// identifiers, custom data identifiers, allow lists and the `occurrences` of a sensitive data finding.
// The lab cloud's Macie2 service (src/cloud/services/macie2) builds its API objects from these.
// Field names follow the Macie2 API reference (Range, Cell, Record, Page, Occurrences,
// CustomDataIdentifierSummary, AllowListCriteria, ClassificationResultStatus).

/** Macie's categories of sensitive data found by managed data identifiers. */
export type SensitiveDataCategory = 'FINANCIAL_INFORMATION' | 'PERSONAL_INFORMATION' | 'CREDENTIALS';

/** Macie's sensitive data finding types. */
export type FindingType =
  | 'SensitiveData:S3Object/Financial'
  | 'SensitiveData:S3Object/Personal'
  | 'SensitiveData:S3Object/Credentials'
  | 'SensitiveData:S3Object/CustomIdentifier'
  | 'SensitiveData:S3Object/Multiple';

export type Severity = 'LOW' | 'MEDIUM' | 'HIGH';

/** A managed data identifier: Macie's id and documented requirements (keywords, countries). */
export interface ManagedIdentifier {
  /** Macie's id, e.g. CREDIT_CARD_NUMBER, USA_SOCIAL_SECURITY_NUMBER, AWS_CREDENTIALS. */
  id: string;
  /** Human name of the sensitive data type, e.g. "Credit card number". */
  name: string;
  category: SensitiveDataCategory;
  findingType: 'SensitiveData:S3Object/Financial' | 'SensitiveData:S3Object/Personal' | 'SensitiveData:S3Object/Credentials';
  /** Macie reports a match only with one of `keywords` in proximity (see keywordMatch in engine.ts). */
  keywordsRequired: boolean;
  /** Keywords (case-insensitive; a space also matches none, `_` or `-`). */
  keywords?: string[];
  /** Characters allowed between the end of a keyword and the start of the match in unstructured text
   * (Macie: "typically 30" for managed identifiers). */
  maximumMatchDistance?: number;
  /** Countries and regions Macie lists for it (ISO 3166-1 alpha-2); absent means Any. */
  countries?: string[];
  /** In Macie's "recommended" set for sensitive data discovery jobs. */
  recommended: boolean;
  /** What this implementation checks, in one sentence (docs/dlp.md repeats it). */
  how: string;
}

/** Macie's CreateCustomDataIdentifier request (the parts that decide detection), plus an id. */
export interface CustomDataIdentifier {
  id: string;
  name: string;
  /** Regular expression (Macie: PCRE subset, up to 512 characters). Run with RE2 semantics here (linear time). */
  regex: string;
  /** Up to 50; one must precede the match within maximumMatchDistance. Case-insensitive. */
  keywords?: string[];
  /** Up to 10; a match that contains one of them (case-sensitive) is excluded. */
  ignoreWords?: string[];
  /** Characters between the end of a keyword and the end of the match; 1-300, default 50 (as Macie). */
  maximumMatchDistance?: number;
  /** Severity by occurrences; default: MEDIUM at 1 occurrence (Macie's default when none given). */
  severityLevels?: { occurrencesThreshold: number; severity: Severity }[];
  /** ARN in the Macie2 service (optional; copied into detections). */
  arn?: string;
}

/** Macie's allow list (CreateAllowList criteria): text matching it is not reported. */
export interface AllowList {
  id: string;
  name?: string;
  /** Either a regex (a detected text in which it matches is not reported; anchor with ^...$ for whole
   * matches) or a words list (S3 object in Macie: one word or phrase a line; a detected text equal to one,
   * case-insensitive, is not reported). RE2 semantics for the regex. */
  criteria: { regex?: string; words?: string[] };
}

/** Macie2 Range: for lineRanges, lines counted from 1; for offsetRanges, character offsets.
 * `startColumn` is the 1-based column of the first character on line `start`. */
export interface Range {
  start: number;
  end: number;
  startColumn: number;
}

/** Macie2 Cell: for CSV/TSV `cellReference` is absent; for XLSX it is e.g. "Sheet2!C5".
 * `row` and `column` count from 1 (row 1 is the header row when there is one). */
export interface Cell {
  row: number;
  column: number;
  columnName?: string;
  cellReference?: string;
}

/** Macie2 Record: recordIndex from 0 (JSON Lines: the line; JSON: always 0), jsonPath like $.customer.ssn. */
export interface Record {
  recordIndex: number;
  jsonPath: string;
}

/** Macie2 Page (PDF): pageNumber from 1. */
export interface Page {
  pageNumber: number;
  lineRange?: Range;
  offsetRange?: Range;
}

/** Macie2 Occurrences: where the data is. Only the member that fits the file type is present. */
export interface Occurrences {
  lineRanges?: Range[];
  offsetRanges?: Range[];
  pages?: Page[];
  records?: Record[];
  cells?: Cell[];
}

/** One type of sensitive data found in a text or object (Macie2 DefaultDetection / CustomDetection). */
export interface Detection {
  /** Managed identifier id, or the custom identifier's id. */
  type: string;
  /** Present for managed identifiers. */
  category?: SensitiveDataCategory;
  /** True for custom data identifiers. */
  custom?: boolean;
  /** Custom identifiers: name (and arn when given). */
  name?: string;
  arn?: string;
  /** Every occurrence, not only the reported ones (Macie's count). */
  count: number;
  /** At most ScanOptions.maxOccurrences (Macie: 15) locations. */
  occurrences: Occurrences;
  /** The matched texts, in the same order as the reported occurrences (not in Macie's findings, which
   * never carry the data; the Macie2 service must not expose them except through RevealSensitiveData). */
  values?: string[];
}

/** Which managed identifiers a scan uses (Macie2 CreateClassificationJob managedDataIdentifierSelector). */
export type ManagedSelector = 'RECOMMENDED' | 'INCLUDE' | 'EXCLUDE' | 'ALL' | 'NONE';

export interface ScanOptions {
  /** Default: RECOMMENDED. INCLUDE = only ids; EXCLUDE = all but ids; ALL; NONE; as Macie. */
  managed?: { selection: ManagedSelector; ids?: string[] };
  custom?: CustomDataIdentifier[];
  allowLists?: AllowList[];
  /** Locations reported per type (Macie reports up to 15). Default 15. */
  maxOccurrences?: number;
  /** Include matched text in Detection.values (default false). */
  includeValues?: boolean;
}

/** Macie2 ClassificationResultStatus code. */
export type ResultStatus = 'COMPLETE' | 'PARTIAL' | 'SKIPPED';

export interface ObjectScanResult {
  /** MIME type as Macie reports it in classificationDetails.result.mimeType, e.g. text/csv. */
  fileType: string;
  detections: Detection[];
  status: ResultStatus;
  /** Macie's reason wording for SKIPPED or PARTIAL, e.g. UNSUPPORTED_FILE_TYPE_EXCEPTION,
   * FILE_SIZE_LIMIT_EXCEEDED, UNABLE_TO_PARSE_FILE, ARCHIVE_NESTING_LEVEL_OVER_LIMIT. */
  skipped?: string;
  /** Bytes of content analysed (after decompression). */
  sizeClassified: number;
  /** Archives (gzip, ZIP, TAR): each file inside, flattened; `detections` above merges them. */
  files?: ObjectFileResult[];
}

/** One file inside an archive object. */
export interface ObjectFileResult {
  /** Path inside the archive. */
  name: string;
  fileType: string;
  status: ResultStatus;
  skipped?: string;
  detections: Detection[];
}

/** The engine's functions (implemented in index.ts). */
export interface DlpEngine {
  scanText(text: string, opts?: ScanOptions): Detection[];
  scanObject(name: string, bytes: Uint8Array, opts?: ScanOptions): Promise<ObjectScanResult>;
  /** Macie2 TestCustomDataIdentifier: the number of matches in sampleText. */
  testCustomDataIdentifier(ci: Omit<CustomDataIdentifier, 'id' | 'name'> & { id?: string; name?: string }, sampleText: string): number;
  MANAGED_IDENTIFIERS: readonly ManagedIdentifier[];
}
