// Console sign-in events. The lab cloud has no AWS Management Console, so nothing produces the `ConsoleLogin`
// records CloudTrail writes when someone signs in; scenarios and the labs' background activity synthesize them with
// this function, in AWS's documented format (eventType AwsConsoleSignIn, eventSource signin.amazonaws.com,
// responseElements.ConsoleLogin, additionalEventData.MFAUsed / LoginTo / MobileVersion), see
// https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html
//
// Every record made here carries `"seclab:emulated": "console sign-in synthesized by the lab cloud"`, so nothing
// pretends to come from AWS. It is added to the gateway's CloudTrail store like any recorded call, so LookupEvents,
// trail delivery (S3, CloudWatch Logs) and StopLogging treat it as they treat the others.
import { ctTime, type CloudTrailRecord, type CloudTrailStore } from './recorder.ts';

export interface ConsoleSignIn {
  account: string;
  /** An IAM user name, or undefined for the root user. */
  userName?: string;
  /** The user's id (AIDA…), when known. */
  userId?: string;
  sourceIp: string;
  userAgent?: string;
  mfaUsed: boolean;
  /** Default true; a failed sign-in records `ConsoleLogin: Failure` and the errorMessage AWS writes. */
  success?: boolean;
  /** Sign-in events of IAM users are recorded in the region of the sign-in endpoint (default us-east-1). */
  region?: string;
  /** Event time; default the lab clock's now. */
  time?: Date;
}

export type ConsoleSignInRecord = CloudTrailRecord & {
  additionalEventData: Record<string, string>;
  'seclab:emulated': string;
};

/** Records (and returns) a ConsoleLogin event for an IAM user or the root user. */
export function recordConsoleSignIn(gateway: { trail: CloudTrailStore; clock: { now(): Date } }, s: ConsoleSignIn): ConsoleSignInRecord {
  const region = s.region ?? 'us-east-1';
  const root = s.userName === undefined;
  const success = s.success !== false;
  const record: ConsoleSignInRecord = {
    eventVersion: '1.08',
    userIdentity: root
      ? { type: 'Root', principalId: s.account, arn: `arn:aws:iam::${s.account}:root`, accountId: s.account }
      : { type: 'IAMUser', principalId: s.userId ?? `AIDA${s.account}SIGNIN`, arn: `arn:aws:iam::${s.account}:user/${s.userName}`, accountId: s.account, userName: s.userName },
    eventTime: ctTime(s.time ?? gateway.clock.now()),
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    awsRegion: region,
    sourceIPAddress: s.sourceIp,
    userAgent: s.userAgent ?? 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    requestParameters: null,
    responseElements: { ConsoleLogin: success ? 'Success' : 'Failure' },
    ...(success ? {} : { errorMessage: 'Failed authentication' }),
    additionalEventData: {
      LoginTo: `https://console.aws.amazon.com/console/home?region=${region}&state=hashArgs%23&isauthcode=true`,
      MobileVersion: 'No',
      MFAUsed: s.mfaUsed ? 'Yes' : 'No',
      ...(s.mfaUsed ? { MFAIdentifier: root ? `arn:aws:iam::${s.account}:mfa/root-account-mfa-device` : `arn:aws:iam::${s.account}:mfa/${s.userName}` } : {}),
    },
    requestID: gateway.trail.newEventId(),
    eventID: gateway.trail.newEventId(),
    readOnly: false,
    eventType: 'AwsConsoleSignIn',
    managementEvent: true,
    recipientAccountId: s.account,
    eventCategory: 'Management',
    'seclab:emulated': 'console sign-in synthesized by the lab cloud (it has no console)',
  };
  gateway.trail.add(record);
  return record;
}
