// CloudTrail in the lab cloud: every call the gateway decides becomes a record (api-calls.ts),
// LookupEvents and the trail calls are answered here (extension.ts), and trails deliver log files and
// digests on the lab clock (delivery.ts).
import { defineService, type Capabilities, type CallOutcome, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import type { Credential } from '../../gateway/credentials.ts';
import type { LabClock } from '../../gateway/clock.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import { CloudTrailStore, type UserIdentity } from './recorder.ts';
import { CloudTrailDelivery } from './delivery.ts';
import { recordCall, userIdentityOf } from './api-calls.ts';
import { recordConsoleSignIn, type ConsoleSignIn, type ConsoleSignInRecord } from './console-signin.ts';
import { cloudtrailExtension } from './extension.ts';

export class CloudTrailService implements ServiceRuntime {
  /** Every record of every account, as LookupEvents and trails see them. */
  readonly trail = new CloudTrailStore();
  readonly delivery: CloudTrailDelivery;
  readonly extensions: ServiceExtension[];
  readonly clock: LabClock;
  readonly target: Upstream;

  constructor(caps: Capabilities) {
    this.clock = caps.clock;
    this.target = caps.target;
    this.delivery = new CloudTrailDelivery(this.trail, caps.target, caps.sinks);
    this.extensions = [cloudtrailExtension(this)];
  }

  observe(outcome: CallOutcome): void {
    recordCall(this.trail, this.clock, outcome);
  }

  deliver(nowMs: number): Promise<void> {
    return this.delivery.deliverAll(nowMs);
  }

  dropAccount(account: string): void {
    this.trail.dropAccount(account);
  }

  userIdentityOf(cred: Credential): UserIdentity {
    return userIdentityOf(cred);
  }

  /** Records a console sign-in (the lab cloud has no console; scenarios synthesize them). */
  recordConsoleSignIn(s: ConsoleSignIn): ConsoleSignInRecord {
    return recordConsoleSignIn(this, s);
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    cloudtrail: CloudTrailService;
  }
}

export const cloudtrailService = defineService('cloudtrail', (caps) => new CloudTrailService(caps));
