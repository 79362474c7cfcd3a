// SNS deliveries the lab cloud makes on top of moto's: email and SMS are recorded in an outbox (the
// "inbox" of the lab's administrators, read by `seclab outbox` and graders), and Lambda subscribers
// are invoked. moto itself delivers to SQS and HTTP(S) subscribers.
import type { SnsService } from './index.ts';
import { SubscriptionConfirmations } from './confirmations.ts';

export interface OutboxEntry {
  account: string;
  /** Lab-clock time, ISO. */
  time: string;
  protocol: 'email' | 'email-json' | 'sms';
  endpoint: string;
  topicArn?: string;
  subject?: string;
  message: string;
  messageId: string;
}

interface Subscription {
  SubscriptionArn?: string;
  Protocol?: string;
  Endpoint?: string;
}

export class Outbox {
  private entries: OutboxEntry[] = [];
  /** Email subscriptions waiting for their endpoint to confirm them (see confirmations.ts). */
  readonly confirmations = new SubscriptionConfirmations();

  /**
   * A lab's person reads the mailbox `email` in `account`: the subscription confirmation requests
   * it receives are confirmed (the person follows the link), as an administrator would.
   */
  addReader(account: string, email: string): void {
    this.confirmations.addReader(account, email);
  }

  add(e: OutboxEntry): void {
    this.entries.push(e);
    if (this.entries.length > 100_000) this.entries.shift();
  }

  list(account: string, filter: { protocol?: string; endpoint?: string; since?: string } = {}): OutboxEntry[] {
    return this.entries.filter((e) => e.account === account
      && (!filter.protocol || e.protocol === filter.protocol)
      && (!filter.endpoint || e.endpoint === filter.endpoint)
      && (!filter.since || e.time >= filter.since));
  }

  dropAccount(account: string): void {
    this.entries = this.entries.filter((e) => e.account !== account);
    this.confirmations.dropAccount(account);
  }
}

/** The notification JSON that SNS sends to Lambda subscribers (and email-json). */
function snsRecord(topicArn: string, subscriptionArn: string, messageId: string, subject: string | undefined, message: string, time: string) {
  return {
    EventSource: 'aws:sns', EventVersion: '1.0', EventSubscriptionArn: subscriptionArn,
    Sns: { Type: 'Notification', MessageId: messageId, TopicArn: topicArn, Subject: subject ?? null, Message: message, Timestamp: time, SignatureVersion: '1', Signature: 'seclab:emulated', SigningCertUrl: '', UnsubscribeUrl: '', MessageAttributes: {} },
  };
}

/** After a successful Publish to a topic: email/SMS into the outbox, Lambda subscribers invoked. */
/** `emailMessage`: what email subscribers get when it differs (CloudWatch alarms send text to email). */
export async function fanOut(sns: SnsService, account: string, region: string, topicArn: string, message: string, subject: string | undefined, messageId: string, emailMessage?: string): Promise<void> {
  const subs: Subscription[] = [];
  let NextToken: string | undefined;
  do {
    const page = await sns.target.json<{ Subscriptions?: Subscription[]; NextToken?: string }>(account, 'sns', 'ListSubscriptionsByTopic', { TopicArn: topicArn, NextToken }, region);
    subs.push(...(page.Subscriptions ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  const time = sns.clock.now().toISOString();
  for (const s of subs) {
    const protocol = s.Protocol ?? '';
    // Nothing reaches a subscription that waits for confirmation.
    if (s.SubscriptionArn && sns.outbox.confirmations.isPending(s.SubscriptionArn)) continue;
    if (protocol === 'email' || protocol === 'email-json' || protocol === 'sms') {
      const body = protocol === 'email-json' ? JSON.stringify(snsRecord(topicArn, s.SubscriptionArn ?? '', messageId, subject, message, time).Sns) : protocol === 'email' && emailMessage ? emailMessage : message;
      sns.outbox.add({ account, time, protocol, endpoint: s.Endpoint ?? '', topicArn, subject, message: body, messageId });
    } else if (protocol === 'lambda' && s.Endpoint) {
      sns.lambda.invokeAsync(account, s.Endpoint.split(':')[3] ?? region, s.Endpoint, { Records: [snsRecord(topicArn, s.SubscriptionArn ?? '', messageId, subject, message, time)] }, { service: 'sns.amazonaws.com', sourceArn: topicArn });
    }
  }
}

/** Publishes as an AWS service would (CloudWatch alarm actions, EventBridge targets): moto, then our fan-out. */
export async function publishAsService(sns: SnsService, account: string, topicArn: string, message: string, subject?: string, emailMessage?: string): Promise<void> {
  const region = topicArn.split(':')[3] ?? sns.region;
  const out = await sns.target.json<{ MessageId?: string }>(account, 'sns', 'Publish', { TopicArn: topicArn, Message: message, ...(subject ? { Subject: subject } : {}) }, region);
  await fanOut(sns, account, region, topicArn, message, subject, out.MessageId ?? '', emailMessage);
}
