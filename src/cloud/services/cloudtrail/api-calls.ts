// The CloudTrail record of every call through the gateway (moto records none), built from the
// pipeline's decided call: who (userIdentity as AWS writes it), what, from where, and the outcome.
import { randomUUID } from 'node:crypto';
import type { Credential } from '../../gateway/credentials.ts';
import type { CallOutcome } from '../../gateway/service.ts';
import { toAuthz } from '../../gateway/protocol/authz-map.ts';
import { ctTime, isReadOnly, toRequestParameters, type CloudTrailRecord, type CloudTrailStore, type UserIdentity } from './recorder.ts';

export function userIdentityOf(cred: Credential): UserIdentity {
  const base = { accountId: cred.account, accessKeyId: cred.accessKeyId };
  if (cred.kind === 'root') return { type: 'Root', principalId: cred.account, arn: cred.arn, ...base };
  const attributes = cred.issuedAt
    ? { attributes: { creationDate: ctTime(cred.issuedAt), mfaAuthenticated: (cred.mfaAuthenticated ? 'true' : 'false') as 'true' | 'false' } }
    : undefined;
  if (cred.kind === 'role-session') {
    return {
      type: 'AssumedRole', principalId: `${cred.userId}:${cred.sessionName}`, arn: cred.arn, ...base,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: cred.userId, arn: cred.roleArn ?? '', accountId: cred.account, userName: cred.roleName ?? '' }, ...attributes!,
        ...(cred.ec2RoleDelivery ? { ec2RoleDelivery: cred.ec2RoleDelivery } : {}),
      },
    };
  }
  return { type: 'IAMUser', principalId: cred.userId, arn: cred.arn, ...base, userName: cred.userName, ...(attributes ? { sessionContext: attributes } : {}) };
}

/**
 * The CloudTrail record of a call the gateway decided (allowed, refused, or failed in the target),
 * added to the store; a cross-account AssumeRole is also recorded in the role's account.
 */
export function recordCall(trail: CloudTrailStore, clock: { now(): Date }, { cred, call, sourceIp, userAgent, requestId, error }: CallOutcome): void {
  const dataEvent = call.service === 's3' && call.params['Key'] !== undefined;
  const authz = (() => {
    try {
      return toAuthz(call, cred.account);
    } catch {
      return undefined;
    }
  })();
  const record: CloudTrailRecord = {
    eventVersion: '1.08',
    userIdentity: userIdentityOf(cred),
    eventTime: ctTime(clock.now()),
    eventSource: call.eventSource,
    eventName: call.operation,
    awsRegion: call.region,
    sourceIPAddress: sourceIp,
    userAgent,
    requestParameters: toRequestParameters(call.service === 's3' ? s3RequestParameters(call.params, call.region) : call.params),
    responseElements: null,
    ...(error ? { errorCode: error.code, errorMessage: error.message } : {}),
    requestID: requestId,
    eventID: trail.newEventId(),
    readOnly: isReadOnly(call.operation),
    ...(authz && authz.resources.some((r) => r !== '*') ? { resources: authz.resources.filter((r) => r !== '*').map((ARN) => ({ ARN, accountId: cred.account })) } : {}),
    eventType: 'AwsApiCall',
    managementEvent: !dataEvent,
    recipientAccountId: cred.account,
    eventCategory: dataEvent ? 'Data' : 'Management',
  };
  // A cross-account AssumeRole, allowed or refused, is also logged in the role's account, where the
  // caller shows as another AWS account (userIdentity type AWSAccount), with a shared event id.
  const roleAccount = call.service === 'sts' && call.operation === 'AssumeRole' ? /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(String(call.params['RoleArn'] ?? ''))?.[1] : undefined;
  if (roleAccount && roleAccount !== cred.account) {
    record.sharedEventID = randomUUID();
    trail.add(record);
    trail.add({
      ...record, eventID: trail.newEventId(), recipientAccountId: roleAccount,
      userIdentity: { type: 'AWSAccount', principalId: record.userIdentity.principalId, accountId: cred.account },
    });
    return;
  }
  trail.add(record);
}

/** CloudTrail names S3's request parameters bucketName, key and Host, not as the API does. */
function s3RequestParameters(params: Record<string, unknown>, region: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) {
    if (k === 'Bucket') out['BucketName'] = v;
    else if (k === 'Key') out['Key'] = v;
    else out[k] = v;
  }
  if (params['Bucket'] !== undefined) out['Host'] = `${String(params['Bucket'])}.s3.${region}.amazonaws.com`;
  return out;
}
