// Lab advanced (slide 16) — your solution. `seclab check advanced` provisions Northwind's network
// (six months after lab network: flow logs already on), runs apply(), checks what it built, evaluates
// your anomaly model on traffic you have not seen, then attacks the network while normal traffic flows.
// apply() runs with the lab account's administrator credentials in the environment (AWS_ENDPOINT_URL,
// AWS_ACCESS_KEY_ID...), so `new S3Client({})` just works. Read the workbook: `seclab start advanced`.
import type { LabInput } from 'seclab/kit';

interface Subnet { id: string; cidr: string; networkAclId: string }
interface Instance { name: string; id: string; tier: string; vpc: 'sensitive' | 'sandbox'; privateIp: string; publicIp?: string }
interface Env {
  vpcs: {
    sensitive: { id: string; name: string; cidr: string; holds: string };
    sandbox: { id: string; name: string; cidr: string; holds: string };
  };
  subnets: { web: Subnet; app: Subnet; db: Subnet; sandbox: Subnet };
  securityGroups: { web: string; bastion: string; app: string; db: string; sandbox: string };
  instances: Instance[];
  /** Allow rules of the production network ACLs start at this number. */
  firstAllowRule: number;
  /** Who must be told: by email and by text message. */
  admins: { email: string; phone: string };
  contractors: string[];
  ports: { web: number; app: number; db: number; ssh: number };
  /** The production VPC's flow logs (already on): all traffic, 60 s, into this CloudWatch Logs group. */
  flowLogs: { groupName: string; flowLogId: string; format: string };
  /** Customer data (objects under customers/). */
  dataBucket: string;
  /** The role of app-1 and app-2 (their instance profile). */
  instanceRole: { name: string; arn: string; profileArn: string };
  /** A developer and her access key. */
  developer: { userName: string; accessKeyId: string };
  /** 14 days of normal flow logs, one object per day (default format, with a header line). */
  baseline: { bucket: string; prefix: string; days: number; keys: string[] };
  /** Where your trained model file goes. */
  artifacts: { bucket: string; modelKey: string };
  /** The company's threat feed: one address per line. */
  threatIntel: { bucket: string; key: string };
  /** The contracted vulnerability scanner: it scans web-1 and the bastion every day. */
  knownScanner: { ip: string; name: string };
  /** What your detector puts on the default event bus for each alert. */
  anomalyEvents: { source: string; detailType: string };
}

export async function apply({ accountId, region, env }: LabInput<Env>) {
  void accountId;
  void region;
  console.log(`flow logs of ${env.vpcs.sensitive.id} in ${env.flowLogs.groupName}; ${env.baseline.keys.length} days of baseline`);
  // TODO model: download env.baseline.keys, train (`seclab anomaly train`), upload to env.artifacts.
  // TODO detector: deploy detector/ (Lambda, your model.json inside) and subscribe it to the flow logs.
  // TODO guardduty: a detector, env.threatIntel as a ThreatIntelSet, an ARCHIVE filter for the scanner.
  // TODO response: EventBridge rules → responder/ (Lambda), SNS email + SMS to env.admins.
}
