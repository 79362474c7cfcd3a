// GuardDuty's own threat intelligence in the lab cloud. On AWS it is GuardDuty's (proprietary) feeds
// of known command-and-control servers, cryptocurrency pools and malicious callers; here it is what a
// lab declares (`GuardDutyService.intel.add`), the same for every account of the lab cloud, so a lab
// decides which of its attackers "the world already knows". Empty by default: without a lab's
// entries only customers' own threat lists (ThreatIntelSets) name bad addresses.
import { BlockList, isIP } from 'node:net';

export type IntelKind = 'command-and-control' | 'cryptocurrency' | 'malicious-caller';

export interface IntelEntry {
  kind: IntelKind;
  /** An IPv4/IPv6 address, a CIDR range, or a domain name (matches itself and its subdomains). */
  value: string;
  /** The feed GuardDuty names in the finding's evidence (threatListName). */
  list?: string;
}

export class ThreatIntel {
  private readonly ips = new Map<IntelKind, BlockList>();
  private readonly domains = new Map<string, { kind: IntelKind; list: string }>();
  /** Per kind: the ranges added, with the feed that named each (the first that holds an address wins). */
  private readonly feeds = new Map<IntelKind, { list: BlockList; feed: string }[]>();

  add(entries: IntelEntry[]): void {
    for (const e of entries) {
      const list = e.list ?? 'ProofPoint';
      const [addr, bits] = e.value.split('/');
      const family = isIP(addr ?? '');
      if (family) {
        let b = this.ips.get(e.kind);
        if (!b) this.ips.set(e.kind, (b = new BlockList()));
        const type = family === 4 ? 'ipv4' : 'ipv6';
        if (bits !== undefined) b.addSubnet(addr!, Number(bits), type);
        else b.addAddress(addr!, type);
        const one = new BlockList();
        if (bits !== undefined) one.addSubnet(addr!, Number(bits), type);
        else one.addAddress(addr!, type);
        let fs = this.feeds.get(e.kind);
        if (!fs) this.feeds.set(e.kind, (fs = []));
        fs.push({ list: one, feed: list });
      } else {
        this.domains.set(e.value.toLowerCase().replace(/\.$/, ''), { kind: e.kind, list });
      }
    }
  }

  clear(): void {
    this.ips.clear();
    this.domains.clear();
    this.feeds.clear();
  }

  /** The kinds of intel an address is known for (empty: none). */
  address(ip: string): IntelKind[] {
    const family = isIP(ip);
    if (!family) return [];
    return [...this.ips].filter(([, b]) => b.check(ip, family === 4 ? 'ipv4' : 'ipv6')).map(([k]) => k);
  }

  /** The feed that names an address as `kind` (undefined: not known as that). */
  feedOf(ip: string, kind: IntelKind): string | undefined {
    const family = isIP(ip);
    if (!family) return undefined;
    return this.feeds.get(kind)?.find((f) => f.list.check(ip, family === 4 ? 'ipv4' : 'ipv6'))?.feed;
  }

  /** What a domain (or a parent domain of it) is known for. */
  domain(name: string): { kind: IntelKind; list: string; domain: string } | undefined {
    const labels = name.toLowerCase().replace(/\.$/, '').split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      const d = labels.slice(i).join('.');
      const hit = this.domains.get(d);
      if (hit) return { ...hit, domain: d };
    }
    return undefined;
  }
}
