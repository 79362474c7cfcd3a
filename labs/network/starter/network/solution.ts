// Lab network (slide 14) — your solution. `seclab check network` provisions Northwind's network,
// runs apply(), checks what it built, then attacks the network while normal traffic flows: an SSH
// brute force, a port scan and an exfiltration. apply() runs with the lab account's administrator
// credentials in the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID...), so `new EC2Client({})`
// just works. Read the workbook: `seclab start network`.
import { EC2Client } from '@aws-sdk/client-ec2';
import type { LabInput } from 'seclab/kit';
// For task 3: import { zipDir } from 'seclab/kit';  zipDir(new URL('./responder/', import.meta.url))

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
}

const ec2 = new EC2Client({});

export async function apply({ accountId, region, env }: LabInput<Env>) {
  void ec2;
  void accountId;
  void region;
  console.log(`production VPC ${env.vpcs.sensitive.id} (${env.vpcs.sensitive.cidr}): ${env.vpcs.sensitive.holds}`);
  // TODO task 1: VPC Flow Logs on the VPC that holds customer data, to a CloudWatch Logs group.
  // TODO task 2: metric filters and alarms on flow-log metrics, notifying env.admins (SNS email + SMS).
  // TODO task 3: deploy responder/index.mjs as a Lambda function triggered by the alarms, with a
  //              least-privilege role that lets it deny an address or isolate an instance.
}
