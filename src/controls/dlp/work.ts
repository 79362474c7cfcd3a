// Work counters of the DLP engine: how much text the keyword and overlap checks looked at, and how many
// bytes archives expanded to. Tests assert on them (bounded work on hostile input) instead of on time.

export const work = {
  /** Characters of text examined while looking for a custom identifier's keywords. */
  customKeywordChars: 0,
  /** Phone-number candidates checked for overlap with the ones already kept. */
  phoneCandidates: 0,
  /** Steps of the phone-number overlap check (binary-search probes and comparisons). */
  phoneOverlapSteps: 0,
  /** Capitalised words looked at by the NAME identifier. */
  nameTokens: 0,
  /** Street lines found by the ADDRESS identifier (each extended by at most two units and one tail). */
  addressCandidates: 0,
  /** Bytes produced by decompressing gzip and ZIP members. */
  inflatedBytes: 0,
};

export function resetWork(): void {
  work.customKeywordChars = 0;
  work.phoneCandidates = 0;
  work.phoneOverlapSteps = 0;
  work.nameTokens = 0;
  work.addressCandidates = 0;
  work.inflatedBytes = 0;
}
