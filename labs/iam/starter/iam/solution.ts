// Lab iam (slide 11) — your solution. `seclab check iam` runs audit() first, on the account as you
// find it, then apply(). Both run with the lab account's administrator credentials in the
// environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID...), so `new IAMClient({})` just works.
// Read the workbook: `seclab start iam`.
import { IAMClient } from '@aws-sdk/client-iam';
import type { LabInput } from 'seclab/kit';

interface Env {
  officeCidr: string;
  people: { name: string; role: 'admin' | 'developer' | 'analyst'; officeIp: string; needs: string }[];
  sharedUser: string;
  buckets: { customerData: string; artifacts: string; reports: string };
}

const iam = new IAMClient({});

/** Task 4: review IAM and the access logs, and return what you found. */
export async function audit({ env }: LabInput<Env>) {
  void iam;
  void env;
  // TODO: list users without MFA, the shared credential, over-broad policies, and the outside
  // addresses whose calls were refused (CloudTrail LookupEvents).
  return {
    usersWithoutMfa: [] as string[],
    sharedCredentials: [] as string[],
    overBroadPolicies: [] as string[],
    suspiciousSourceIps: [] as string[],
  };
}

/** Tasks 1-3: individual users, least privilege, MFA. */
export async function apply({ env }: LabInput<Env>) {
  void env;
  // TODO: your controls here.
}
