// Lab network (slide 14): VPC Flow Logs on the sensitive VPC, metric filters and CloudWatch alarms
// on flow-log metrics notifying the administrators, and a Lambda responder that blocks an address
// with a network ACL deny entry or isolates an instance, at Northwind Analytics.
import { fileURLToPath } from 'node:url';
import type { Lab } from '../../src/engine/types.ts';
import { provisionNetwork } from './provision.ts';
import { checks } from './checks.ts';
import { sshBruteForceScenario } from '../../scenarios/network-ssh-brute-force.ts';
import { portScanScenario } from '../../scenarios/network-port-scan.ts';
import { exfiltrationScenario } from '../../scenarios/network-exfiltration.ts';
import { quietPeriod } from '../../scenarios/lib/network.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export const lab: Lab = {
  id: 'network',
  slide: 14,
  title: 'Network monitoring and response',
  summary: 'Capture the traffic of the VPC that holds customer data with flow logs, alarm on what matters and tell the administrators, and let a Lambda function block the attacker or isolate the compromised instance.',
  objectives: [
    'VPC Flow Logs on the VPCs that hold sensitive data',
    'CloudWatch alarms on flow-log metrics: rejected SSH attempts, unusual outbound bytes, traffic from unexpected addresses',
    'A Lambda function that responds to a threat: blocks an IP (network ACL) or isolates or terminates an instance',
  ],
  workbook: here('./workbook.md'),
  starter: here('./starter'),
  tasks: [
    {
      id: 'flow-logs', title: 'VPC Flow Logs on the sensitive VPC, into CloudWatch Logs',
      hints: [
        'env.vpcs has two VPCs: only one holds customer data. CreateFlowLogs with ResourceType "VPC" and its id covers every subnet and interface in it.',
        'TrafficType "ALL": brute force and scans show up as REJECT records, exfiltration as ACCEPT records. One type alone misses half the attacks.',
        'LogDestinationType "cloud-watch-logs" needs a log group (CreateLogGroup) and DeliverLogsPermissionArn: a role that trusts vpc-flow-logs.amazonaws.com and may logs:CreateLogStream and logs:PutLogEvents in that group.',
        'MaxAggregationInterval 60: with the default (600 s) records reach the logs up to ten minutes late and a one-minute alarm looks at data that is not there yet.',
      ],
    },
    {
      id: 'alarms', title: 'Metric filters and alarms on flow-log metrics, notifying the administrators',
      hints: [
        'A flow-log record (default format) is: version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status. A space-delimited filter pattern names each field: `[version, account, eni, srcaddr, dstaddr, srcport, dstport=22, protocol, packets, bytes, start, end, action=REJECT, status]`.',
        'Three metrics: rejected SSH (`dstport=22`, `action=REJECT`), bytes sent outside (`srcaddr=10.20.*`, `dstaddr!=10.20.*`, metric value `$bytes`, any port and protocol: the grader uploads over TCP 443, TCP 22 and UDP 443), rejected connections from outside (`srcaddr!=10.20.*`, `action=REJECT`). Test them with TestMetricFilter on a few records from the log group.',
        'Give each metric filter a defaultValue of 0: minutes without a match then report 0 and the alarm returns to OK after the attack.',
        'PutMetricAlarm: Statistic Sum, Period 60, EvaluationPeriods 1, a threshold well above a normal minute (look at the metric during normal traffic) and AlarmActions: [your topic].',
        'CreateTopic, then Subscribe with Protocol "email" (env.admins.email) and Protocol "sms" (env.admins.phone). `seclab outbox` shows what they received.',
        'An email subscription stays "PendingConfirmation" until its owner confirms it, as in AWS: the administrators confirm the request they receive; for any other address, ConfirmSubscription with the token in the message `seclab outbox` shows.',
      ],
    },
    {
      id: 'responder', title: 'A Lambda responder that blocks the address or isolates the instance',
      hints: [
        'Deploy network/responder/index.mjs: CreateFunction with Runtime "nodejs20.x", Handler "index.handler" and Code.ZipFile = zipDir(new URL("./responder/", import.meta.url)) from seclab/kit. Pass it what it needs in Environment.Variables.',
        'Trigger it from the alarm: Subscribe the function to the alarm topic (Protocol "lambda", plus lambda AddPermission for sns.amazonaws.com). The event is { Records: [{ Sns: { Message } }] } and Message is the alarm as JSON (AlarmName, NewStateValue, StateChangeTime, Trigger.MetricName).',
        'Find the offender in the flow logs: FilterLogEvents on the flow-log group from a few minutes before StateChangeTime, with a filterPattern such as `"REJECT"` or `[version, account, eni, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action=REJECT, status]`; then count refused connections per outside srcaddr, or bytes sent out per interface-id.',
        'Network ACLs stop at the first matching rule, lowest number first: the allow rules start at env.firstAllowRule (100), so a deny numbered 150 is never reached. CreateNetworkAclEntry with RuleNumber below it, Egress false, Protocol "-1", RuleAction "deny", CidrBlock `"<ip>/32"`, in each ACL of the production subnets.',
        'An instance that sends your data out is compromised: blocking one destination is not enough. Swap its security groups (ModifyInstanceAttribute Groups) for a quarantine group with no rules, or stop it.',
        'The execution role: what the function calls, on the resources it touches (logs:FilterLogEvents on the flow-log group, ec2:CreateNetworkAclEntry on those ACLs, ec2:ModifyInstanceAttribute, the Describe calls it needs), and nothing else — not ReplaceNetworkAclEntry, DeleteNetworkAclEntry, DeleteNetworkAcl, ReplaceNetworkAclAssociation or CreateNetworkAcl, nor entries on any other ACL.',
      ],
    },
  ],
  provision: provisionNetwork,
  studentSteps: [{ export: 'apply' }],
  checks,
  // The tasks whose hints help when an attack gets through (`seclab hint`).
  scenarios: [sshBruteForceScenario, portScanScenario, exfiltrationScenario].map((sc) => ({ ...sc, tasks: { detected: 'alarms', blocked: 'responder' } })),
  /** `seclab simulate`: the company's normal traffic, minute by minute (alarms evaluate, responders run). */
  async normalActivity(session, minutes, onMinute) {
    for (let m = 1; m <= minutes; m++) {
      await quietPeriod(session, 1);
      onMinute?.(m);
    }
    return {};
  },
};
