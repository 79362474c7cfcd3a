// SNS in the gateway: deliveries moto drops (email, SMS, Lambda subscribers).
import { xmlTag, type ServiceExtension } from '../../gateway/extension.ts';
import { fanOut } from './outbox.ts';

export const snsExtension: ServiceExtension = {
  service: 'sns',
  async after({ gateway, cred, call }, res) {
    if (call.operation === 'SetTopicAttributes' || call.operation === 'DeleteTopic') gateway.policies.invalidateTopic(cred.account, String(call.params['TopicArn'] ?? ''));
    if (call.operation !== 'Publish') return;
    const p = call.params;
    const messageId = xmlTag(res.body.toString('utf8'), 'MessageId') ?? '';
    const message = String(p['Message'] ?? '');
    const subject = p['Subject'] === undefined ? undefined : String(p['Subject']);
    if (p['PhoneNumber']) {
      gateway.outbox.add({ account: cred.account, time: gateway.clock.now().toISOString(), protocol: 'sms', endpoint: String(p['PhoneNumber']), subject, message, messageId });
      return;
    }
    const topicArn = String(p['TopicArn'] ?? p['TargetArn'] ?? '');
    if (topicArn) await fanOut(gateway, cred.account, call.region, topicArn, message, subject, messageId);
  },
};
