// Email subscriptions wait for confirmation, as in AWS (moto confirms them at once): Subscribe answers
// "pending confirmation", SNS sends the endpoint a confirmation message holding a token (here: into the
// outbox), and nothing is delivered to the subscription until someone confirms it: ConfirmSubscription
// with the token, or, in the labs, the person who reads that mailbox (a lab declares its people with
// Outbox.addReader and they confirm the requests they receive, as an administrator clicks the link).
// Lists show the subscription's ARN as "PendingConfirmation" until then.
import { randomBytes, randomUUID } from 'node:crypto';

export interface PendingSubscription {
  account: string;
  region: string;
  topicArn: string;
  subscriptionArn: string;
  protocol: 'email' | 'email-json';
  endpoint: string;
  token: string;
}

/** Protocols whose subscriptions need confirming (http/https too in AWS; moto delivers those itself). */
export const CONFIRMED_BY_ENDPOINT = ['email', 'email-json'];

export class SubscriptionConfirmations {
  /** By subscription ARN: pending ones, and those confirmed through the gateway. */
  private pending = new Map<string, PendingSubscription>();
  private confirmed = new Set<string>();
  private readers = new Set<string>();

  isPending(subscriptionArn: string): boolean {
    return this.pending.has(subscriptionArn);
  }

  isConfirmed(subscriptionArn: string): boolean {
    return this.confirmed.has(subscriptionArn);
  }

  /** A (new) confirmation request for a subscription: its token. */
  request(p: Omit<PendingSubscription, 'token'>): PendingSubscription {
    // AWS's tokens are long hex strings; a fresh one per request, the older ones stay valid.
    const entry = { ...p, token: randomBytes(64).toString('hex') };
    this.pending.set(p.subscriptionArn, entry);
    this.tokens.set(entry.token, p.subscriptionArn);
    return entry;
  }

  private tokens = new Map<string, string>();

  /** ConfirmSubscription: the subscription the token confirms (undefined: no such token for the topic). */
  confirm(account: string, topicArn: string, token: string): string | undefined {
    const arn = this.tokens.get(token);
    if (!arn) return undefined;
    const p = this.pending.get(arn);
    if (p && (p.account !== account || p.topicArn !== topicArn)) return undefined;
    if (!p && !this.confirmed.has(arn)) return undefined;
    this.pending.delete(arn);
    this.confirmed.add(arn);
    return arn;
  }

  forget(subscriptionArn: string): void {
    this.pending.delete(subscriptionArn);
    this.confirmed.delete(subscriptionArn);
    for (const [t, arn] of this.tokens) if (arn === subscriptionArn) this.tokens.delete(t);
  }

  /** A person of the lab reads the mailbox `endpoint` of `account` and confirms subscription requests. */
  addReader(account: string, endpoint: string): void {
    this.readers.add(`${account}|${endpoint.toLowerCase()}`);
  }

  readsMail(account: string, endpoint: string): boolean {
    return this.readers.has(`${account}|${endpoint.toLowerCase()}`);
  }

  dropAccount(account: string): void {
    for (const [arn, p] of this.pending) if (p.account === account) this.forget(arn);
    for (const arn of this.confirmed) if (arn.split(':')[4] === account) this.forget(arn);
    for (const r of this.readers) if (r.startsWith(`${account}|`)) this.readers.delete(r);
  }
}

/** The confirmation message SNS sends the endpoint (email: text; email-json: the JSON document). */
export function confirmationMessage(p: PendingSubscription, time: string): { subject: string; message: string; messageId: string } {
  const messageId = randomUUID();
  const url = `https://sns.${p.region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(p.topicArn)}&Token=${p.token}`;
  const subject = 'AWS Notification - Subscription Confirmation';
  if (p.protocol === 'email-json') {
    return {
      subject, messageId,
      message: JSON.stringify({
        Type: 'SubscriptionConfirmation', MessageId: messageId, Token: p.token, TopicArn: p.topicArn,
        Message: `You have chosen to subscribe to the topic ${p.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
        SubscribeURL: url, Timestamp: time, SignatureVersion: '1', Signature: 'seclab:emulated', SigningCertURL: '',
      }),
    };
  }
  return {
    subject, messageId,
    message: `You have chosen to subscribe to the topic: \n${p.topicArn}\n\nTo confirm this subscription, click or visit the link below (If this was in error no action is necessary): \n${url}\n\n`
      + `In the lab cloud (seclab:emulated), confirm with: aws sns confirm-subscription --topic-arn ${p.topicArn} --token ${p.token}\n`,
  };
}
