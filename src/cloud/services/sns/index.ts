// SNS in the lab cloud: deliveries moto drops (email and SMS into the outbox, Lambda subscribers
// invoked), email subscriptions that wait for confirmation, topic policies in authorization.
import { defineService, type AuthorizationPart, type Capabilities, type ControlHandler, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import type { LabClock } from '../../gateway/clock.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import { Outbox, fanOut, publishAsService } from './outbox.ts';
import { snsExtension } from './extension.ts';

export class SnsService implements ServiceRuntime {
  /** What SNS delivered to email addresses and phones (no mail leaves the lab cloud). */
  readonly outbox = new Outbox();
  readonly clock: LabClock;
  readonly target: Upstream;
  readonly region: string;
  readonly extensions: ServiceExtension[];
  readonly authorization: AuthorizationPart;
  readonly control: Record<string, ControlHandler>;

  constructor(private readonly caps: Capabilities) {
    this.clock = caps.clock;
    this.target = caps.target;
    this.region = caps.region;
    this.extensions = [snsExtension(this)];
    this.authorization = {
      resourcePolicy: async ({ resource, owner }) => {
        const sns = /^arn:aws:sns:([^:]+):(\d{12}):([^:]+)$/.exec(resource);
        if (!sns) return undefined;
        const doc = await this.policies.topicPolicy(owner, sns[1]!, resource);
        return doc ? { source: `topic policy of ${sns[3]}`, document: doc, account: sns[2]! } : 'none';
      },
    };
    this.control = {
      // An account's deliveries, after everything due up to the lab clock's now was delivered.
      '/_seclab/outbox': async (q) => {
        await caps.flush();
        return { status: 200, value: { deliveries: this.outbox.list(q.get('account') ?? '', { protocol: q.get('protocol') ?? undefined, endpoint: q.get('endpoint') ?? undefined }) } };
      },
    };
  }

  /** Lambda subscribers are invoked through the Lambda runtime. */
  get lambda() {
    return this.caps.service('lambda');
  }

  /** Where topic policies are read and cached. */
  get policies() {
    return this.caps.service('iam').policies;
  }

  /** After a successful Publish: email/SMS into the outbox, Lambda subscribers invoked. */
  fanOut(account: string, region: string, topicArn: string, message: string, subject: string | undefined, messageId: string, emailMessage?: string): Promise<void> {
    return fanOut(this, account, region, topicArn, message, subject, messageId, emailMessage);
  }

  /** Publishes as an AWS service would (CloudWatch alarm actions, EventBridge targets). */
  publishAsService(account: string, topicArn: string, message: string, subject?: string, emailMessage?: string): Promise<void> {
    return publishAsService(this, account, topicArn, message, subject, emailMessage);
  }

  dropAccount(account: string): void {
    this.outbox.dropAccount(account);
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    sns: SnsService;
  }
}

export const snsService = defineService('sns', (caps) => new SnsService(caps));
