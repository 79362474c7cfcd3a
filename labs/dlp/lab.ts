// Lab dlp (slide 15): Contoso Pay's customer data, found and kept in with Macie and S3's own controls.
// The student enables and configures Macie (custom data identifiers for the company's formats, an
// allow list for QA data, a scheduled classification job), prevents transfer (Block Public Access, a
// data perimeter on the analysts, the partner's scope, a network perimeter on customer data), builds a
// quarantine responder (Macie finding → EventBridge → Lambda), and writes a DLP test suite that the
// grader runs against weakened copies of their controls (GRADING.md says how each part is graded).
import { fileURLToPath } from 'node:url';
import type { Lab, Scenario } from '../../src/engine/types.ts';
import { provisionDlp } from './provision.ts';
import { checks } from './checks.ts';
import { testSuiteChecks } from './test-suite.ts';
import { cardCopyOutsideScenario } from '../../scenarios/dlp-card-copy-outside.ts';
import { objectMadePublicScenario } from '../../scenarios/dlp-object-made-public.ts';
import { presignedUrlOutsideScenario } from '../../scenarios/dlp-presigned-url-outside.ts';
import { stagingDropScenario } from '../../scenarios/dlp-staging-drop.ts';
import { piiInLogScenario } from '../../scenarios/dlp-pii-in-log.ts';
import { renamedCompressedScenario } from '../../scenarios/dlp-renamed-compressed.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The attacks (one file each under scenarios/). */
const scenarios: Scenario[] = [
  { ...cardCopyOutsideScenario, points: { blocked: 5 } },
  { ...objectMadePublicScenario, points: { blocked: 5 } },
  { ...presignedUrlOutsideScenario, points: { blocked: 5 } },
  { ...stagingDropScenario, points: { blocked: 3, detected: 2 } },
  { ...piiInLogScenario, points: { blocked: 3, detected: 2 } },
  { ...renamedCompressedScenario, points: { blocked: 3, detected: 2 } },
];

export const lab: Lab = {
  id: 'dlp',
  slide: 15,
  title: 'Data loss prevention: Macie, policies that stop the transfer of PII and PCI, a tested DLP',
  summary: 'Find Contoso Pay\'s card and personal data wherever it lands with Macie, stop it from leaving (to other accounts, to the public, through presigned URLs, to the partner beyond what it may see), quarantine what turns up where it should not, and prove it all with your own exfiltration tests.',
  objectives: [
    'Amazon Macie with custom data identifiers for the company\'s own formats and an allow list for test data',
    'A scheduled classification job over the company\'s buckets, whose findings are accurate',
    'Prevention enforced by S3 and IAM: Block Public Access, a data perimeter on the analysts, the partner limited to de-identified data, customer data reachable only from the office and the company VPC',
    'A quarantine responder: Macie finding → EventBridge → Lambda that takes the object out of circulation within the deadline',
    'A DLP test suite of your own: exfiltration attempts that fail against your controls — graded by running it against copies of your environment with one control weakened at a time',
  ],
  workbook: here('./workbook.md'),
  starter: here('./starter'),
  tasks: [
    {
      id: 'macie', title: 'Macie on, with custom data identifiers for the company\'s formats and an allow list for test data',
      hints: [
        'EnableMacie with FindingPublishingFrequency FIFTEEN_MINUTES (updates of findings reach EventBridge that often; new findings go out at once).',
        'CreateCustomDataIdentifier for each of env.formats: a regex that matches the format exactly (customer ids are CP-CUST- and 8 digits; card references cref_ and 24 characters of a-z and 2-7), keywords from the column names, log fields and JSON field names the company uses (customer_id and customer; card_ref, cref and ref — in JSON, a keyword matches the name of any field on the value\'s path, such as card.ref) and a maximumMatchDistance that reaches from the keyword to the value. TestCustomDataIdentifier with a sample line tells you how many matches it finds.',
        'qa-fixtures holds the card networks\' published test numbers, example.com addresses, SSNs in area 000 and 555-01xx phone numbers. CreateAllowList with a regex that matches exactly those (and nothing a real customer could have), or with an S3 words list; a job that uses it reports nothing for them.',
        'Macie detects card numbers, SSNs, emails, phone numbers and IBANs itself (managed data identifiers): ListManagedDataIdentifiers names them.',
      ],
    },
    {
      id: 'job', title: 'A scheduled classification job over the company\'s buckets, and findings you can trust',
      hints: [
        'CreateClassificationJob with jobType SCHEDULED, scheduleFrequency { dailySchedule: {} } and initialRun true: the first run analyses what is there, every later run (00:00 UTC) what is new — that is how drops into staging and leaks into the logs are found within the deadline.',
        's3JobDefinition.bucketDefinitions: [{ accountId, buckets: [every bucket but quarantine] }]. customDataIdentifierIds with both of yours, allowListIds with your allow list, managedDataIdentifierSelector RECOMMENDED (or ALL).',
        'Do not scope objects by file extension: attackers rename files. Macie reads gzip and zip archives and looks at what is inside.',
        'ListFindings / GetFindings show what the job found: raw card numbers and SSNs in customer-data and in some support-logs lines; nothing in qa-fixtures; only card references (your custom identifier) in the partner\'s de-identified exports.',
      ],
    },
    {
      id: 'public', title: 'Nothing public: Block Public Access for the account, ACLs off on the legacy bucket',
      hints: [
        'S3 Control PutPublicAccessBlock with AccountId and all four settings true: it overrides whatever a bucket says. In the lab cloud make the client with new S3ControlClient(s3ControlConfig()) (seclab/kit): S3 Control puts the account id in front of the endpoint\'s host.',
        'env.legacyAclBucket still has ACLs enabled (Object Ownership ObjectWriter) and no bucket-level Block Public Access: PutBucketOwnershipControls BucketOwnerEnforced, and PutPublicAccessBlock on it too.',
      ],
    },
    {
      id: 'perimeter', title: 'A data perimeter on the analysts: company buckets only, and no way to make data public',
      hints: [
        'The analysts\' role (env.analysts.roleArn) has s3:* on everything: one stolen session, or one careless analyst, copies card data into any bucket of any account. Deny what leaves: s3:PutObject (and the other writes) where aws:ResourceAccount is not the company\'s account — a Deny in the role\'s policy, or a permissions boundary.',
        'Deny them the calls that make data public or change who may read it: s3:PutBucketPolicy, s3:DeleteBucketPolicy, s3:PutBucketAcl, s3:PutObjectAcl, s3:PutBucketPublicAccessBlock, s3:PutAccountPublicAccessBlock, s3:PutBucketOwnershipControls.',
        'They must still read customer data and write internal/ aggregates to analytics-exports (env.analysts.reads and writes).',
      ],
    },
    {
      id: 'partner', title: 'The partner sees de-identified data only',
      hints: [
        'The analytics-exports bucket policy gives the partner\'s account the whole bucket. Keep s3:GetObject on deidentified/* only, and s3:ListBucket with a Condition StringLike s3:prefix deidentified/*.',
        'Check it as the partner would: its role (env.partner.readerRoleArn) reads deidentified/ and nothing under internal/.',
      ],
    },
    {
      id: 'network', title: 'Customer data reachable only from the office and the company VPC',
      hints: [
        'A bucket policy on customer-data that Denies s3:GetObject (or s3:*) unless the call comes through the VPC endpoint (aws:SourceVpce env.network.s3EndpointId) or from the office (aws:SourceIp env.network.officeCidr): a Deny with two negated conditions — StringNotEquals aws:SourceVpce and NotIpAddress aws:SourceIp — refuses only what matches both.',
        'A presigned URL is the signer\'s permission carried by whoever holds it: opened from outside, this Deny refuses it too. (s3:authType REST-QUERY-STRING and s3:signatureAge are the other keys that limit presigned URLs.)',
        'Calls through a VPC endpoint carry no aws:SourceIp: that is why the endpoint needs its own condition.',
        'Leave the root and Macie a way in (Macie reads through its service-linked role: a Deny that names every principal also blinds your classification job unless it excepts aws:PrincipalArn arn:aws:iam::<account>:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie).',
      ],
    },
    {
      id: 'responder', title: 'A quarantine responder: Macie finding → EventBridge → Lambda, within the deadline',
      hints: [
        'An EventBridge rule on the default bus with a pattern like { "source": ["aws.macie"], "detail-type": ["Macie Finding"], "detail": { "type": [{ "prefix": "SensitiveData:" }] } }, targeting your Lambda function; lambda AddPermission for events.amazonaws.com with the rule\'s ARN as SourceArn.',
        'The finding says where: detail.resourcesAffected.s3Bucket.name and detail.resourcesAffected.s3Object.key. Act only where sensitive data should not be (staging, support-logs): customer-data is where it belongs, and the partner reads its exports.',
        'Quarantine = CopyObject into env.buckets.quarantine, then DeleteObject from where it was (or tag it and deny reads of tagged objects with s3:ExistingObjectTag). Give the function\'s role exactly that.',
        'The deadline: env.quarantineDeadlineMs after the data lands (a daily job finds it by the next 00:00 UTC).',
        'Starter code: dlp/responder/index.mjs.',
      ],
    },
    {
      id: 'tests', title: 'Your own DLP test suite: exfiltration attempts that must fail',
      hints: [
        'Export dlpTests(input) from solution.ts; it returns { results: [{ name, passed, detail }], state }. input.actors are the people you can act as (insider, app, partner, outsider, anonymous); actorClient(S3Client, actor) from seclab/kit makes a client that acts as one, fromAddress(actor) the headers of a plain fetch().',
        'Each test tries one way out and passes when it fails: the insider copying card data into input.actors.outsider.bucket; the insider making an object public; a presigned URL opened by the outsider; the partner reading outside deidentified/; card data dropped in staging and still there at the deadline.',
        'Block Public Access is what stops even an administrator: your suite also runs with your own credentials (a client without an actor), so one test can try to put a public bucket policy on staging and expect S3 to refuse it — and remove it if S3 took it.',
        'Your suite runs twice: stage "attempt", then, once the lab clock has moved past the quarantine deadline, stage "after-deadline" with the state you returned — check there that what you dropped was quarantined.',
        'It is graded like mutation testing: the grader weakens one of your controls at a time (Block Public Access off, the analysts\' restrictions removed, the partner\'s old policy back, customer-data\'s bucket policy deleted, the responder\'s rule disabled) and your suite must fail on each. It must pass, twice, on your real controls.',
        'Try it: `seclab check dlp` prints what each weakened copy did to your tests.',
      ],
    },
  ],
  provision: provisionDlp,
  studentSteps: [{ export: 'apply' }],
  checks: [...checks, ...testSuiteChecks],
  scenarios,
};

