// Lab advanced (slide 16), part 1: a custom network-anomaly model trained on fourteen days of Northwind's
// flow logs, deployed as a Lambda fed by the flow-log group, GuardDuty with the company's threat feed and a
// suppression rule for its contracted scanner, and an automated response (EventBridge → Lambda: isolate,
// revoke the instance role's sessions, disable a key, block an address). Graded on held-back traffic, a
// quiet day (false alarms, healthy hosts left alone) and six attacks (GRADING.md).
import { fileURLToPath } from 'node:url';
import type { Lab, Scenario } from '../../src/engine/types.ts';
import { provisionAdvanced } from './provision.ts';
import { checks } from './checks.ts';
import { quietDayScenario } from '../../scenarios/advanced-quiet-day.ts';
import { slowExfiltrationScenario } from '../../scenarios/advanced-slow-exfiltration.ts';
import { ddosBurstScenario } from '../../scenarios/advanced-ddos-burst.ts';
import { c2BeaconingScenario } from '../../scenarios/advanced-c2-beaconing.ts';
import { stolenInstanceCredentialsScenario } from '../../scenarios/advanced-stolen-instance-credentials.ts';
import { advancedPortScanScenario } from '../../scenarios/advanced-port-scan.ts';
import { threatListLoginScenario } from '../../scenarios/advanced-threat-list-login.ts';
import { MINUTE, quiet } from '../../scenarios/lib/advanced.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The quiet day first (GuardDuty learns over it), then the attacks; the task whose hints help when one gets through. */
const scenarios: Scenario[] = [
  quietDayScenario,
  { ...slowExfiltrationScenario, tasks: { detected: 'detector', blocked: 'response' } },
  { ...ddosBurstScenario, tasks: { detected: 'detector', blocked: 'response' } },
  { ...c2BeaconingScenario, tasks: { detected: 'guardduty', blocked: 'response' } },
  { ...stolenInstanceCredentialsScenario, tasks: { detected: 'guardduty', blocked: 'response' } },
  { ...advancedPortScanScenario, tasks: { detected: 'guardduty', blocked: 'response' } },
  { ...threatListLoginScenario, tasks: { detected: 'guardduty', blocked: 'response' } },
];

export const lab: Lab = {
  id: 'advanced',
  slide: 16,
  title: 'An anomaly model, GuardDuty and automated response',
  summary: 'Train a model of Northwind\'s normal network traffic on two weeks of flow logs and run it on the live flow logs, enable GuardDuty with the company\'s threat feed without drowning in its scanner\'s findings, and contain what they find automatically — without taking down what is healthy.',
  objectives: [
    'A network-anomaly model trained on normal traffic, its threshold set for a stated false-positive rate, judged on traffic it never saw',
    'The model deployed as a Lambda function fed by the flow-log group (subscription filter), publishing anomaly events to EventBridge',
    'GuardDuty with a threat list from the company\'s feed and a suppression rule for a known scanner',
    'Automated response: isolate an instance, revoke a role\'s sessions, disable an access key, block an address — and notify the administrators',
  ],
  workbook: here('./workbook.md'),
  starter: here('./starter'),
  tasks: [
    {
      id: 'model', title: 'Train the anomaly model on the baseline and store it',
      hints: [
        'Download every object of env.baseline (env.baseline.keys in env.baseline.bucket) and train on all of them: `seclab anomaly train baseline/ --out model.json --fpr 0.01` (or trainFromFlowLogs from seclab/kit/anomaly in solution.ts). Every window of the baseline is normal traffic.',
        'Train on all fourteen days: the model learns each host\'s own profile (app-2 never sends megabytes outside; web-1 answers a few customers a minute), and the latest days set the threshold.',
        '--fpr 0.01 sets the threshold so that about 1 % of normal windows score above it. Lower (0.001) misses slow attacks; higher (0.05) floods the quiet day with alerts.',
        'PutObject the model file (the JSON `seclab anomaly train` writes, unchanged) to env.artifacts.bucket under env.artifacts.modelKey: the grader scores that file on two held-back days with attacks in them (ROC-AUC ≥ 0.9, few alerts on normal windows).',
        'Check it yourself first: `seclab anomaly score <a baseline day> --model model.json` should raise almost nothing.',
      ],
    },
    {
      id: 'detector', title: 'Deploy the model as a Lambda function fed by the flow logs',
      hints: [
        'Put model.json in the function\'s package next to index.mjs (zipDir from seclab/kit) and load it once per process with loadModel(readFileSync(new URL(\'./model.json\', import.meta.url))) from seclab/kit/anomaly.',
        'CreateFunction with Runtime nodejs20.x, then lambda AddPermission for logs.amazonaws.com (SourceArn: the log group\'s ARN with :*), then CloudWatch Logs PutSubscriptionFilter on env.flowLogs.groupName with an empty filterPattern and the function\'s ARN as destinationArn.',
        'In the handler: decodeSubscription(event) → parseFlowRecords(batch.logEvents) → createDetector(model, { state }).detect(records); each alert becomes an anomalyEvent(alert, env.anomalyEvents) entry of PutEvents on the default bus.',
        'The execution role needs events:PutEvents on the default bus (and logs:CreateLogStream/PutLogEvents for its own logs) — nothing more.',
        'Only events your detector function puts count as detections: its role\'s session signs them in CloudTrail.',
      ],
    },
    {
      id: 'guardduty', title: 'GuardDuty with the threat feed, and the scanner suppressed',
      hints: [
        'CreateDetector with Enable true and FindingPublishingFrequency FIFTEEN_MINUTES.',
        'CreateThreatIntelSet with Format TXT, Location `https://s3.amazonaws.com/<env.threatIntel.bucket>/<env.threatIntel.key>` and Activate true; GetThreatIntelSet should say ACTIVE.',
        'The contracted scanner (env.knownScanner.ip) probes web-1 and the bastion every day: CreateFilter with Action ARCHIVE and FindingCriteria on its address, e.g. `service.action.networkConnectionAction.remoteIpDetails.ipAddressV4` and `service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4` Eq [ip] (one filter per path: criteria of one filter must all hold).',
        'Name the address exactly: a filter on the finding type alone would archive a real scan too.',
      ],
    },
    {
      id: 'response', title: 'EventBridge → a responder that contains the threat',
      hints: [
        'Rules on the default bus: `{ "source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"] }` (narrow by detail.type or detail.severity if you like) and `{ "source": [env.anomalyEvents.source], "detail-type": [env.anomalyEvents.detailType] }`, each targeting the responder, plus lambda AddPermission for events.amazonaws.com per rule ARN.',
        'Instance findings (detail.resource.instanceDetails.instanceId) and anomaly events naming an app server (detail.instanceId / detail.host): ModifyInstanceAttribute Groups [a quarantine security group without rules]. Never the web tier as a whole: a DDoS is answered by denying its heaviest sources.',
        'Addresses (detail.service.action...remoteIpDetails.ipAddressV4, an anomaly event\'s reasons): CreateNetworkAclEntry Egress false and true, RuleAction deny, Protocol -1, CidrBlock ip/32, RuleNumber below env.firstAllowRule, in each production ACL. Never the known scanner.',
        'InstanceCredentialExfiltration: revoke the role\'s sessions — PutRolePolicy on env.instanceRole.name with a Deny of * when aws:TokenIssueTime is DateLessThan now (the console\'s "Revoke active sessions"). MaliciousIPCaller on an access key: UpdateAccessKey Status Inactive for detail.resource.accessKeyDetails.',
        'Notify env.admins: an SNS topic with an email and an SMS subscription, published to by the responder.',
        'Least privilege for the responder\'s role: the actions above on the resources above — no iam:*, no ec2:TerminateInstances, no reading the data bucket.',
      ],
    },
  ],
  provision: provisionAdvanced,
  studentSteps: [{ export: 'apply' }],
  // apply() trains the model on 14 days of flow logs (15–40 s here): a loaded machine must not time it out.
  studentTimeoutMs: 300_000,
  checks,
  scenarios,
  /** `seclab simulate`: the company's normal traffic, a minute at a time (the detector and GuardDuty run). */
  async normalActivity(session, minutes, onMinute) {
    for (let m = 1; m <= minutes; m++) {
      await quiet(session, MINUTE);
      onMinute?.(m);
    }
    return {};
  },
};
