// A person browsing the EC2 console makes dozens of read-only calls in a minute. CloudTrail writes the console's
// user agents for them (AWS CloudTrail User Guide, "CloudTrail record contents", userAgent: signin.amazonaws.com,
// console.amazonaws.com, "AWS Internal" when a proxy client such as the console made the call; and as seen in
// real trails: console.ec2.amazonaws.com, aws-internal/3 aws-sdk-java/…, *.console.aws.amazon.com,
// [S3Console/0.4, aws-internal/3 …]). None of that is discovery with stolen keys: the bundled pack must stay quiet,
// and the same calls from the CLI must still raise the discovery burst.
import { describe, expect, it } from 'vitest';
import { SiemEngine } from '../../src/controls/siem/engine.ts';
import type { SiemEvent } from '../../src/controls/siem/events.ts';
import { loadBundledRules } from '../../src/controls/siem/pack.ts';
import { at, ct } from './helpers.ts';

const pack = loadBundledRules();
const BURST = 'Burst of Discovery API Calls by One Identity';

const JAVA = 'aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.219-186.866.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard';
/** The user agents the console's calls carry (one per browsing session below). */
const CONSOLE_AGENTS = [
  'console.ec2.amazonaws.com',
  JAVA,
  'AWS Internal',
  'signin.amazonaws.com',
  'console.amazonaws.com',
  'ec2.console.aws.amazon.com',
  `[S3Console/0.4, ${JAVA}]`,
  'AWS Internal/3',
];

/** What the EC2 console calls when someone opens Instances, then Volumes, Security Groups, Network and Key Pairs. */
const EC2_PAGES: Array<[string, string]> = [
  ['ec2', 'DescribeInstances'], ['ec2', 'DescribeInstanceStatus'], ['ec2', 'DescribeInstanceTypes'], ['ec2', 'DescribeVpcs'],
  ['ec2', 'DescribeSubnets'], ['ec2', 'DescribeSecurityGroups'], ['ec2', 'DescribeAddresses'], ['ec2', 'DescribeKeyPairs'],
  ['ec2', 'DescribeVolumes'], ['ec2', 'DescribeSnapshots'], ['ec2', 'DescribeImages'], ['ec2', 'DescribeTags'],
  ['ec2', 'DescribeAvailabilityZones'], ['ec2', 'DescribeAccountAttributes'], ['ec2', 'DescribeLaunchTemplates'],
  ['ec2', 'DescribeNetworkInterfaces'], ['ec2', 'DescribeInstanceCreditSpecifications'], ['ec2', 'GetEbsEncryptionByDefault'],
  ['ec2', 'DescribeRegions'], ['iam', 'ListInstanceProfiles'], ['monitoring', 'GetMetricData'], ['ssm', 'DescribeInstanceInformation'],
  ['compute-optimizer', 'GetEnrollmentStatus'], ['elasticloadbalancing', 'DescribeLoadBalancers'],
];

const ANNA = { type: 'IAMUser', principalId: 'AIDAEXAMPLEANNA', arn: 'arn:aws:iam::111122223333:user/anna', accountId: '111122223333', userName: 'anna' };

function browsing(userAgent: string, start: number, extra: Record<string, unknown> = {}): SiemEvent[] {
  const out: SiemEvent[] = [
    ct({ eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', eventType: 'AwsConsoleSignIn', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0', sourceIPAddress: '203.0.113.10', userIdentity: ANNA, responseElements: { ConsoleLogin: 'Success' }, additionalEventData: { MFAUsed: 'Yes', LoginTo: 'https://console.aws.amazon.com/ec2/' } }, at(start)),
  ];
  EC2_PAGES.forEach(([service, eventName], i) =>
    out.push(
      ct({ eventSource: `${service}.amazonaws.com`, eventName, userAgent, sourceIPAddress: '203.0.113.10', userIdentity: { ...ANNA, accessKeyId: 'ASIAEXAMPLECONSOLE' }, readOnly: true, ...extra }, at(start + 2 + i * 3)),
    ),
  );
  return out;
}

const alertsOn = (events: SiemEvent[]) => new SiemEngine(pack).run(events).map((a) => `${a.rule.title} (${a.events[0]?.fields['userAgent']})`);

describe('the AWS console\'s user agents', () => {
  it.each(CONSOLE_AGENTS)('a person browsing EC2 with %s raises no alert', (ua) => {
    expect(alertsOn(browsing(ua, 0))).toEqual([]);
  });

  it('a whole day of console sessions with every agent, one after another, raises no alert', () => {
    const day = CONSOLE_AGENTS.flatMap((ua, i) => browsing(ua, i * 3600));
    expect(day.length).toBe(CONSOLE_AGENTS.length * (EC2_PAGES.length + 1));
    expect(alertsOn(day)).toEqual([]);
  });

  it('the same calls from the CLI or an SDK, or with a look-alike agent, still raise the discovery burst', () => {
    for (const ua of ['aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22', 'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux', 'console.ec2.amazonaws.com.evil.example', 'my-console.amazonaws.com.example']) {
      expect(alertsOn(browsing(ua, 0)).map((a) => a.replace(/ \(.*$/, ''))).toContain(BURST);
    }
  });
});
