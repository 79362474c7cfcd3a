// SNS in the gateway: deliveries moto drops (email, SMS, Lambda subscribers), and email subscriptions
// that wait for confirmation as in AWS (confirmations.ts).
import { ApiError } from '../../gateway/api-error.ts';
import { queryResult, xmlEscape, xmlTag, type ServiceExtension } from '../../gateway/extension.ts';
import type { UpstreamResponse } from '../../gateway/upstream.ts';
import { CONFIRMED_BY_ENDPOINT, confirmationMessage } from './confirmations.ts';
import { fanOut } from './outbox.ts';
import type { SnsService } from './index.ts';

const withBody = (res: UpstreamResponse, body: string): UpstreamResponse => ({ ...res, body: Buffer.from(body) });

export function snsExtension(sns: SnsService): ServiceExtension {
  return {
    service: 'sns',

    /** ConfirmSubscription with the token SNS sent the endpoint (moto accepts any token and confirms nothing). */
    async serve({ cred, call, requestId }) {
      if (call.operation !== 'ConfirmSubscription') return undefined;
      const topicArn = String(call.params['TopicArn'] ?? '');
      const arn = sns.outbox.confirmations.confirm(cred.account, topicArn, String(call.params['Token'] ?? ''));
      if (!arn) throw new ApiError(400, 'InvalidParameter', 'Invalid token');
      return queryResult('sns', 'ConfirmSubscription', `<SubscriptionArn>${xmlEscape(arn)}</SubscriptionArn>`, requestId);
    },

    async after({ cred, call }, res) {
      const conf = sns.outbox.confirmations;
      if (call.operation === 'SetTopicAttributes' || call.operation === 'DeleteTopic') sns.policies.invalidateTopic(cred.account, String(call.params['TopicArn'] ?? ''));
      if (call.operation === 'Unsubscribe') conf.forget(String(call.params['SubscriptionArn'] ?? ''));
      if (call.operation === 'Subscribe' && CONFIRMED_BY_ENDPOINT.includes(String(call.params['Protocol'] ?? ''))) {
        const body = res.body.toString('utf8');
        const arn = xmlTag(body, 'SubscriptionArn');
        if (!arn || conf.isConfirmed(arn)) return;
        const topicArn = String(call.params['TopicArn'] ?? '');
        const endpoint = String(call.params['Endpoint'] ?? '');
        const pending = conf.request({ account: cred.account, region: call.region, topicArn, subscriptionArn: arn, protocol: call.params['Protocol'] as 'email' | 'email-json', endpoint });
        const time = sns.clock.now().toISOString();
        const m = confirmationMessage(pending, time);
        sns.outbox.add({ account: cred.account, time, protocol: pending.protocol, endpoint, topicArn, subject: m.subject, message: m.message, messageId: m.messageId });
        // The lab's person who reads this mailbox follows the link.
        if (conf.readsMail(cred.account, endpoint)) conf.confirm(cred.account, topicArn, pending.token);
        // "If you set this parameter to true, the response includes the ARN for the pending subscription."
        if (String(call.params['ReturnSubscriptionArn'] ?? '') === 'true') return;
        return withBody(res, body.replace(`<SubscriptionArn>${xmlEscape(arn)}</SubscriptionArn>`, '<SubscriptionArn>pending confirmation</SubscriptionArn>'));
      }
      if (call.operation === 'ListSubscriptions' || call.operation === 'ListSubscriptionsByTopic') {
        // Lists show a pending subscription's ARN as "PendingConfirmation".
        const body = res.body.toString('utf8');
        const out = body.replace(/<SubscriptionArn>([^<]*)<\/SubscriptionArn>/g, (all, arn: string) => (conf.isPending(arn) ? '<SubscriptionArn>PendingConfirmation</SubscriptionArn>' : all));
        return out === body ? undefined : withBody(res, out);
      }
      if (call.operation === 'GetSubscriptionAttributes') {
        const pending = conf.isPending(String(call.params['SubscriptionArn'] ?? ''));
        const body = res.body.toString('utf8');
        return withBody(res, body.replace(/(<key>PendingConfirmation<\/key>\s*<value>)[^<]*(<\/value>)/, `$1${pending}$2`));
      }
      if (call.operation !== 'Publish') return;
      const p = call.params;
      const messageId = xmlTag(res.body.toString('utf8'), 'MessageId') ?? '';
      const message = String(p['Message'] ?? '');
      const subject = p['Subject'] === undefined ? undefined : String(p['Subject']);
      if (p['PhoneNumber']) {
        sns.outbox.add({ account: cred.account, time: sns.clock.now().toISOString(), protocol: 'sms', endpoint: String(p['PhoneNumber']), subject, message, messageId });
        return;
      }
      const topicArn = String(p['TopicArn'] ?? p['TargetArn'] ?? '');
      if (topicArn) await fanOut(sns, cred.account, call.region, topicArn, message, subject, messageId);
    },
  };
}
