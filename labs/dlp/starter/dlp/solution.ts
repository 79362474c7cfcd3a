// Lab dlp (slide 15) — your solution. `seclab check dlp` provisions Contoso Pay's account, runs apply(),
// checks what it built, attacks it (card data copied out, made public, shared by presigned URL, dropped
// where it does not belong), then runs your dlpTests() against your controls and against copies of them
// with one control weakened at a time. apply() runs with the lab account's administrator credentials in
// the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID...), so `new S3Client({})` just works.
// Read the workbook: `seclab start dlp`.
import { Macie2Client } from '@aws-sdk/client-macie2';
import { S3Client } from '@aws-sdk/client-s3';
// import { S3ControlClient, PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
// import { IAMClient, CreateRoleCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
// import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
// import { LambdaClient, CreateFunctionCommand, AddPermissionCommand } from '@aws-sdk/client-lambda';
// import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DlpTestInput, DlpTestOutput, LabInput } from 'seclab/kit';
// For the responder: import { zipDir } from 'seclab/kit';  zipDir(new URL('./responder/', import.meta.url))
// For your tests:    import { actorClient, fromAddress, refused } from 'seclab/kit';

type BucketRole = 'customerData' | 'supportLogs' | 'analyticsExports' | 'staging' | 'qaFixtures' | 'quarantine';
interface App { roleName: string; roleArn: string; reads: string[]; writes: string[] }
interface Env {
  company: string;
  region: string;
  accountId: string;
  /** Bucket names by role. */
  buckets: Record<BucketRole, string>;
  /** What each bucket is for. */
  purposes: Record<BucketRole, string>;
  /** The legacy bucket with ACLs enabled (Object Ownership ObjectWriter), no bucket Block Public Access. */
  legacyAclBucket: string;
  /** The company's own identifier formats (Macie has no managed identifier for them). */
  formats: { customerId: { description: string; example: string }; cardReference: { description: string; example: string } };
  /** The company's workloads: the app (reads customer data, writes support logs) and the nightly exporter. */
  apps: { app: App; exporter: App };
  /** The analytics partner: may read analytics-exports/<allowedPrefix>* from its own account, nothing else. */
  partner: { name: string; accountId: string; readerRoleName: string; readerRoleArn: string; allowedPrefix: string };
  /** The objects the account starts with: bucket role → keys. */
  objects: Record<BucketRole, string[]>;
  /** The data analysts (from the office): read customer data, write internal/ aggregates. */
  analysts: App;
  /** The office, the company VPC and its S3 gateway endpoint, the partner's addresses. */
  network: { officeCidr: string; vpcId: string; vpcCidr: string; s3EndpointId: string; partnerCidr: string };
  /** Sensitive data landing in staging or the support logs must be out of circulation within this many ms. */
  quarantineDeadlineMs: number;
}

const macie = new Macie2Client({});
const s3 = new S3Client({ forcePathStyle: true });

export async function apply({ accountId, region, env }: LabInput<Env>) {
  void macie;
  void s3;
  void region;
  console.log(`${env.company} (${accountId}): customer data in ${env.buckets.customerData}, ${env.objects.customerData.length} objects`);
  // TODO macie: EnableMacie (FIFTEEN_MINUTES); a custom data identifier for each of env.formats (regex,
  //             keywords, maximumMatchDistance); an allow list for the QA test data in qa-fixtures.
  // TODO job: a SCHEDULED classification job (daily, initialRun) over every bucket but quarantine, with
  //             the managed identifiers (RECOMMENDED), your custom identifiers and your allow list.
  // TODO public: account-level Block Public Access (S3 Control); env.legacyAclBucket with ACLs off
  //             (BucketOwnerEnforced) and its own Block Public Access.
  // TODO perimeter: the analysts (env.analysts.roleName) write only to the company's buckets and cannot
  //             change public access — keep their reads and their internal/ writes.
  // TODO partner: analytics-exports' bucket policy gives the partner env.partner.allowedPrefix only.
  // TODO network: customer-data refused unless from the VPC endpoint or the office (keep Macie and root in).
  // TODO responder: deploy responder/index.mjs (Lambda, with a role that may move objects to quarantine),
  //             an EventBridge rule on Macie's sensitive data findings targeting it, lambda AddPermission.
}

/**
 * Your DLP test suite: each test tries one way for data to leave and passes when it fails. It runs with
 * stage 'attempt', then again with stage 'after-deadline' (and the state you returned) once the lab clock
 * has moved past env.quarantineDeadlineMs. It passes when it returns at least one result and all pass.
 */
export async function dlpTests(input: DlpTestInput<Env>): Promise<DlpTestOutput> {
  void input;
  // TODO: the insider copying customer data into input.actors.outsider.bucket; making data public; a
  //       presigned URL opened by the outsider; the partner reading outside deidentified/; card data
  //       dropped into staging (stage 'attempt', key kept in state) and gone at 'after-deadline'.
  //
  // An example (remove the comment markers once you have the imports):
  // const insider = actorClient(S3Client, input.actors.insider);
  // const key = input.env.objects.customerData.find((k) => k.endsWith('.csv'))!;
  // const copied = refused(insider.send(new CopyObjectCommand({
  //   Bucket: input.actors.outsider.bucket, Key: 'stolen.csv', CopySource: `${input.env.buckets.customerData}/${key}`,
  // })));
  // return { results: [{ name: 'the insider cannot copy customer data out', passed: await copied }] };
  return { results: [] };
}
