// How GuardDuty's behaviour analysers (one file per data source: flows.ts for VPC flow logs, dns.ts
// for DNS logs, behaviour.ts for CloudTrail/S3 baselines) reach the service: they see the lab cloud's
// activity, and report what they find as finding drafts; the service decides the rest (detector
// enabled, suppression rules, counts of repeated activity, EventBridge publication).
import type { CallOutcome, Capabilities } from '../../gateway/service.ts';
import type { Draft, Finding } from './findings.ts';
import type { ThreatIntel } from './intel.ts';

export interface GuardDutyHost {
  readonly caps: Capabilities;
  /** GuardDuty's own threat intelligence (intel.ts): addresses and domains the world already knows. */
  readonly intel: ThreatIntel;
  /** How long after a detector's creation baselines are learned before unusual behaviour is reported. */
  readonly learningMs: number;
  /** The account's enabled detector in the Region (undefined: none, or disabled). */
  enabledDetector(account: string, region: string): { id: string; createdAt: number } | undefined;
  /** Whether the enabled detector has a protection plan (e.g. S3_DATA_EVENTS) ENABLED. */
  featureEnabled(account: string, region: string, feature: string): boolean;
  /** The name of the first ACTIVE threat list holding this address or domain (undefined: none). */
  threatList(account: string, region: string, addressOrDomain: string): string | undefined;
  /** Whether an ACTIVE trusted IP list holds the address (GuardDuty then reports nothing about it). */
  trusted(account: string, region: string, address: string): boolean;
  /** A finding for activity seen now: new, or the existing one's count raised. Undefined without an enabled detector. */
  report(account: string, region: string, draft: Draft): Promise<Finding | undefined>;
  /** Runs analysis in order with the service's other work (`settle()` waits for it). */
  enqueue(work: () => Promise<void>): void;
}

/** One data source's analyser. */
export interface BehaviourSource {
  /** A recorded API call (CloudTrail management and S3 data events). */
  observe?(outcome: CallOutcome): Promise<void>;
  /** Time-driven analysis up to `nowMs` (windows that closed). */
  deliver?(nowMs: number): Promise<void>;
  dropAccount?(account: string): void;
  close?(): void;
}
