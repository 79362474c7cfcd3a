// MITRE ATT&CK tags in Sigma rules (tags appendix): `attack.t1078.004` is a technique, `attack.persistence` a tactic,
// `attack.g0016` a group and `attack.s0002` software.
//
// ATT&CK v18 (2025) split the Defense Evasion tactic (TA0005) into Stealth and Defense Impairment; recent SigmaHQ
// rules use the new names (`attack.stealth`, `attack.defense-impairment`) while most other material (Stratus Red
// Team, GuardDuty, older rules) still says Defense Evasion. `tacticFamily` maps all three to one family so that
// a detection tagged with either generation is recognised.

export interface Tactic {
  /** Tag slug, e.g. `privilege-escalation`. */
  readonly slug: string;
  readonly name: string;
  /** TA id where ATT&CK assigns a stable one we know; undefined for the v18 successors of TA0005. */
  readonly id?: string;
}

export const TACTICS: readonly Tactic[] = [
  { slug: 'reconnaissance', name: 'Reconnaissance', id: 'TA0043' },
  { slug: 'resource-development', name: 'Resource Development', id: 'TA0042' },
  { slug: 'initial-access', name: 'Initial Access', id: 'TA0001' },
  { slug: 'execution', name: 'Execution', id: 'TA0002' },
  { slug: 'persistence', name: 'Persistence', id: 'TA0003' },
  { slug: 'privilege-escalation', name: 'Privilege Escalation', id: 'TA0004' },
  { slug: 'defense-evasion', name: 'Defense Evasion', id: 'TA0005' },
  { slug: 'stealth', name: 'Stealth' },
  { slug: 'defense-impairment', name: 'Defense Impairment' },
  { slug: 'credential-access', name: 'Credential Access', id: 'TA0006' },
  { slug: 'discovery', name: 'Discovery', id: 'TA0007' },
  { slug: 'lateral-movement', name: 'Lateral Movement', id: 'TA0008' },
  { slug: 'collection', name: 'Collection', id: 'TA0009' },
  { slug: 'command-and-control', name: 'Command and Control', id: 'TA0011' },
  { slug: 'exfiltration', name: 'Exfiltration', id: 'TA0010' },
  { slug: 'impact', name: 'Impact', id: 'TA0040' },
];

const BY_SLUG = new Map(TACTICS.map((t) => [t.slug, t]));

export interface AttackInfo {
  /** Tactic slugs, e.g. ['persistence', 'privilege-escalation']. */
  readonly tactics: readonly string[];
  /** Technique ids, e.g. ['T1078.004']. */
  readonly techniques: readonly string[];
}

/** Reads the ATT&CK tactics and techniques out of a rule's tags. */
export function attackFromTags(tags: readonly string[]): AttackInfo {
  const tactics = new Set<string>();
  const techniques = new Set<string>();
  for (const raw of tags) {
    const tag = raw.toLowerCase();
    if (!tag.startsWith('attack.')) continue;
    // Older rules write tactics with underscores (attack.defense_evasion).
    const rest = tag.slice('attack.'.length).replace(/_/g, '-');
    const t = /^t(\d{4})(?:\.(\d{3}))?$/.exec(rest);
    if (t) techniques.add(`T${t[1]}${t[2] ? `.${t[2]}` : ''}`);
    else if (BY_SLUG.has(rest)) tactics.add(rest);
    else if (/^ta\d{4}$/.test(rest)) {
      const found = TACTICS.find((x) => x.id === rest.toUpperCase());
      if (found) tactics.add(found.slug);
    }
  }
  return { tactics: [...tactics], techniques: [...techniques] };
}

/** Normalises a tactic written as a name ("Defense Evasion"), a slug or an id (TA0005) to its slug. */
export function tacticSlug(name: string): string | undefined {
  const s = name.trim().toLowerCase().replace(/^attack\./, '').replace(/[\s_]+/g, '-');
  if (BY_SLUG.has(s)) return s;
  return TACTICS.find((t) => t.id?.toLowerCase() === s)?.slug;
}

/** The set of slugs that count as the given tactic (Defense Evasion and its v18 successors are one family). */
export function tacticFamily(slug: string): readonly string[] {
  if (slug === 'defense-evasion' || slug === 'stealth' || slug === 'defense-impairment') {
    return ['defense-evasion', 'stealth', 'defense-impairment'];
  }
  return [slug];
}

export function tacticName(slug: string): string {
  return BY_SLUG.get(slug)?.name ?? slug;
}
