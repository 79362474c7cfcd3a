// Lab host (slide 12): Fabrikam Travel's public web server, launched hardened to CIS Level 1 with its
// user data, its volumes encrypted with a customer managed KMS key whose policy says who may use it,
// EBS encryption by default, IMDSv2 only, and nginx serving only modern HTTPS with a certificate
// from the company's private CA.
import { fileURLToPath } from 'node:url';
import type { Lab, Scenario } from '../../src/engine/types.ts';
import { provisionHost } from './provision.ts';
import { checks } from './checks.ts';
import { tlsDowngradeScenario } from '../../scenarios/host-tls-downgrade.ts';
import { httpLoginInterceptionScenario } from '../../scenarios/host-http-login-interception.ts';
import { sshPasswordBruteForceScenario } from '../../scenarios/host-ssh-brute-force.ts';
import { snapshotSharedOutsideScenario } from '../../scenarios/host-snapshot-shared-outside.ts';
import { stolenDeveloperKeyScenario } from '../../scenarios/host-stolen-developer-key.ts';
import { imdsSsrfScenario } from '../../scenarios/host-imds-ssrf.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** The attacks (one file each under scenarios/), with the tasks whose hints help when one gets through. */
const scenarios: Scenario[] = [
  snapshotSharedOutsideScenario, stolenDeveloperKeyScenario, imdsSsrfScenario,
  tlsDowngradeScenario, httpLoginInterceptionScenario, sshPasswordBruteForceScenario,
].map((sc) => ({ ...sc, points: { blocked: 5 } }));

export const lab: Lab = {
  id: 'host',
  slide: 12,
  title: 'A hardened Linux server: CIS, KMS-encrypted EBS, TLS only',
  summary: 'Launch Fabrikam Travel\'s web server hardened to the CIS Benchmark by its user data, encrypt its volumes with a KMS key only the right people can use, keep its instance credentials out of reach, and serve the site over modern HTTPS only.',
  objectives: [
    'A Linux EC2 instance configured to CIS Level 1 (Debian 12) by its user data, the same user data a real instance would get',
    'A customer managed KMS key with rotation and a key policy that limits who may use it; the instance\'s volumes encrypted with it; EBS encryption by default',
    'IMDSv2 only, with a hop limit that keeps containers away from the instance\'s credentials',
    'nginx serving only TLS 1.2+ with strong forward-secret ciphers, a certificate from the company CA, HSTS, and a redirect from plain HTTP',
  ],
  workbook: here('./workbook.md'),
  starter: here('./starter'),
  tasks: [
    {
      id: 'key', title: 'A customer managed KMS key for the web server\'s volumes, with a key policy that limits who may use it',
      hints: [
        'Work as the platform team: with env.platformEngineer\'s access key, AssumeRole env.platformRole.arn and use those credentials for KMS and EC2 (the key policy names that role; the root user, which your apply() runs as, may not assume roles and needs no place in the key policy).',
        'CreateKey with a Policy of your own. The default key policy\'s first statement (Principal arn:aws:iam::<account>:root, kms:*) hands the key to every IAM principal whose policy allows KMS — the developers have PowerUserAccess, which does.',
        'Three statements do it: the key administrators (env.keyAdminsRole) may administer the key (kms:CreateAlias, Describe*, Enable*, List*, Put*, Update*, Revoke*, Disable*, Get*, Delete*, TagResource, UntagResource, ScheduleKeyDeletion, CancelKeyDeletion) but not use it — not kms:Create*, which includes kms:CreateGrant, and a grant to themselves would let them decrypt; the platform role may use it only through EC2 (kms:Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey with Condition StringEquals kms:ViaService ec2.<region>.amazonaws.com); and kms:CreateGrant for the platform role with Bool kms:GrantIsForAWSResource true (EC2 makes grants to attach volumes).',
        'AWS refuses a key policy that would lock out the caller (PutKeyPolicy/CreateKey): the platform role must keep kms:PutKeyPolicy — add it to its statement, or keep it among the administrators.',
        'EnableKeyRotation on it, and give it an alias (CreateAlias alias/fabrikam-web).',
      ],
    },
    {
      id: 'default-encryption', title: 'EBS encryption by default, with that key',
      hints: [
        'EnableEbsEncryptionByDefault, then ModifyEbsDefaultKmsKeyId with your key\'s ARN: without it, new volumes use the AWS managed key aws/ebs, whose snapshots cannot even be shared — and whose policy you cannot change.',
        'Both are per Region settings of the account: GetEbsEncryptionByDefault and GetEbsDefaultKmsKeyId show what you set.',
      ],
    },
    {
      id: 'data', title: 'The bookings data on an encrypted volume, and no unencrypted copy left',
      hints: [
        'env.data.snapshotId is the old server\'s data, not encrypted. CopySnapshot with Encrypted true and KmsKeyId your key gives an encrypted copy; a volume created from it (or from the plain snapshot with Encrypted and KmsKeyId) is encrypted with your key.',
        'Attach the data as env.data.device (BlockDeviceMappings of RunInstances with the encrypted snapshot, or CreateVolume + AttachVolume), and mount it at env.data.mountPoint from the user data (`mounts:` with nofail).',
        'Then delete the unencrypted snapshot: anyone who can create a volume in the account (the developers) can read it otherwise.',
      ],
    },
    {
      id: 'launch', title: 'The web server launched hardened: CIS Level 1 by its user data, IMDSv2 only, its role',
      hints: [
        'RunInstances with ImageId env.image.id, SubnetId env.subnet.id, SecurityGroupIds [env.securityGroupId], IamInstanceProfile { Arn: env.instanceProfile.arn }, TagSpecifications Name=env.instanceName, and UserData: base64 of your #cloud-config. BlockDeviceMappings: the root volume under env.image.rootDeviceName (the name the image reports: any other name adds a volume) and the data volume as env.data.device.',
        'MetadataOptions { HttpTokens: "required", HttpPutResponseHopLimit: 1, HttpEndpoint: "enabled" }: IMDSv1 answers any GET, which is all an SSRF needs; a hop limit of 1 keeps the answers from reaching containers on the host.',
        'The user data is your CIS hardening: `seclab host fs <instance>` shows the folder it produced and `seclab cis scan "$(seclab host fs <instance>)"` what still fails, with the remediation of each recommendation.',
        'Try your user data without launching anything: `seclab host apply ./my-root user-data.yaml` on a copy of the image, then `seclab cis scan ./my-root`.',
        'SSH for the admins only, with keys: users: with ssh_authorized_keys for each of env.admins, `ssh_pwauth: false`, and an sshd drop-in (PermitRootLogin no, PasswordAuthentication no, KbdInteractiveAuthentication no, MaxAuthTries 4, AllowGroups ...). sshd keeps the first value it reads: a drop-in named 10-*.conf is read before cloud-init\'s 50-cloud-init.conf.',
      ],
    },
    {
      id: 'tls', title: 'The site over modern HTTPS only: a certificate from the company CA, TLS 1.2+, HSTS, redirect from HTTP',
      hints: [
        'ACM RequestCertificate with DomainName env.site.hostName and CertificateAuthorityArn env.site.certificateAuthorityArn is issued at once; ExportCertificate with a Passphrase returns the certificate, the chain and the key encrypted with that passphrase (crypto.createPrivateKey({ key, passphrase }) decrypts it).',
        'nginx: `listen 443 ssl;`, ssl_certificate with the certificate followed by the chain, ssl_certificate_key (mode 0600), `ssl_protocols TLSv1.2 TLSv1.3;`, ssl_ciphers with ECDHE and AEAD suites only (ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:...CHACHA20-POLY1305), `ssl_prefer_server_ciphers on;`.',
        '`add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;` on the HTTPS server; the port 80 server does one thing: `return 301 https://$host$request_uri;`.',
        'Serve env.site.indexHtml as index.html from the site\'s root. `seclab tls scan` against a server you start yourself shows what a client sees.',
      ],
    },
  ],
  provision: provisionHost,
  studentSteps: [{ export: 'apply' }],
  checks,
  scenarios,
};
