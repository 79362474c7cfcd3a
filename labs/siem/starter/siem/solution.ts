// Lab siem (slide 13) — your solution. `seclab check siem` runs apply() with the lab account's administrator
// credentials in the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID...), so `new CloudTrailClient({})` just works.
// Then the grader runs the SIEM with siem.yml (beside this file) against attacks hidden in the company's normal
// activity. Read the workbook: `seclab start siem`.
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { LabInput } from 'seclab/kit';

interface Env {
  region: string;
  officeCidr: string;
  admins: { email: string; phone: string };
  buckets: { customerData: string; reports: string; artifacts: string };
  vpc: { id: string; name: string; cidr: string; instances: { name: string; id: string; privateIp: string; tier: string }[] };
  logGroups: { app: string; bastion: string };
  siemUser: string;
}

const cloudtrail = new CloudTrailClient({});

export async function apply({ accountId, region, env }: LabInput<Env>) {
  void cloudtrail;
  void accountId;
  void region;
  void env;
  // TODO task 1: a bucket for the trail with CloudTrail's bucket policy, a log group, a multi-region trail with
  //              log-file validation to both, S3 data events for the customer data, StartLogging.
  // TODO task 2: flow logs on env.vpc.id (all traffic).
  // TODO task 5: an SNS topic, email and SMS subscriptions for env.admins.
}
