// The lab's company: Fabrikam Travel's public web server. Names, addresses, people and the facts the
// environment, the checks and the scenarios share.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface HostAdmin {
  /** Their login on the web server. */
  user: string;
  name: string;
  /** Their OpenSSH public key (ssh-ed25519), as it goes into authorized_keys. */
  publicKey: string;
}

export interface HostLabEnv {
  company: string;
  region: string;
  vpc: { id: string; cidr: string };
  /** The public subnet the web server goes in. */
  subnet: { id: string; cidr: string; availabilityZone: string };
  /** The web server's security group: HTTPS and HTTP from anywhere, SSH from the office. */
  securityGroupId: string;
  /** The image to launch: Debian 12 (bookworm), what the host model of the lab cloud is built from. */
  image: { id: string; name: string; rootDeviceName: string };
  /** The role the platform team deploys with (AssumeRole it for everything that touches the key and the server). */
  platformRole: { name: string; arn: string };
  /**
   * Your own identity as a platform engineer (in a company: your SSO session). The account's root user
   * may not assume roles (AWS refuses it): assume the platform role with these credentials.
   */
  platformEngineer: { userName: string; accessKeyId: string; secretAccessKey: string };
  /** The role of the people who administer KMS keys (they never use them). */
  keyAdminsRole: { name: string; arn: string };
  /** The web server's instance profile and role (the app reads the bookings bucket with it). */
  instanceProfile: { name: string; arn: string; roleName: string; roleArn: string };
  /** The company's developers: PowerUserAccess, in the same account (they must not use the data key). */
  developersGroup: string;
  site: {
    /** The name clients use; the certificate must cover it. */
    hostName: string;
    /** The company's private certificate authority (ACM Private CA): RequestCertificate with it. */
    certificateAuthorityArn: string;
    /** The site's home page: serve it as https://<hostName>/ (index.html). */
    indexHtml: string;
  };
  data: {
    /** The bookings data: a snapshot of the old server's data volume (not encrypted). */
    snapshotId: string;
    /** Where the app expects the data volume: attach it as this device and mount it here. */
    device: string;
    mountPoint: string;
    sizeGiB: number;
  };
  /** The bucket the app reads with the instance role. */
  bucket: string;
  /** Who administers the server over SSH with their keys, from the office. */
  admins: HostAdmin[];
  office: string;
  /** The company's central log server (systemd-journal-remote): send the journal there (CIS 6.1.2.1). */
  logServer: string;
  /** The name tag the web server instance must carry (how the checks find it). */
  instanceName: string;
}

export const COMPANY = 'Fabrikam Travel';
export const HOST_NAME = 'www.fabrikam-travel.example';
export const VPC_CIDR = '10.30.0.0/16';
export const SUBNET_CIDR = '10.30.1.0/24';
export const OFFICE_CIDR = '203.0.113.0/24';
export const INSTANCE_NAME = 'fabrikam-web';
export const LOG_SERVER = 'https://logs.fabrikam-travel.example:19532';
export const DATA_DEVICE = '/dev/xvdf';
export const DATA_MOUNT = '/srv/bookings';
export const DATA_SIZE_GIB = 20;
export const PLATFORM_ROLE = 'fabrikam-platform';
export const PLATFORM_ENGINEER = 'platform-engineer';
export const KEY_ADMINS_ROLE = 'fabrikam-key-admins';
export const WEB_ROLE = 'fabrikam-web';
export const DEVELOPERS_GROUP = 'developers';
/** The developer whose key the attacker holds (scenario host-stolen-developer-key). */
export const DEVELOPER = 'dev-chris';
/** What the home page must show: the business check looks for it over HTTPS. */
export const SITE_MARKER = 'Fabrikam Travel — book your next trip';
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Fabrikam Travel</title></head>
<body>
<h1>${SITE_MARKER}</h1>
<p>Flights, hotels and trains. <a href="/login">Sign in</a> to see your bookings.</p>
</body>
</html>
`;

export const ADMIN_PEOPLE: { user: string; name: string }[] = [
  { user: 'amira', name: 'Amira Haddad' },
  { user: 'bruno', name: 'Bruno Costa' },
];

/** An OpenSSH public key line for an Ed25519 key (RFC 8709 wire format). */
export function openSshPublicKey(key: KeyObject, comment: string): string {
  const raw = Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]);
  return `ssh-ed25519 ${blob.toString('base64')} ${comment}`;
}

/** The admins with a fresh key pair each (the private halves stay with the grader). */
export function makeAdmins(): { admins: HostAdmin[]; privateKeys: Record<string, string> } {
  const admins: HostAdmin[] = [];
  const privateKeys: Record<string, string> = {};
  for (const p of ADMIN_PEOPLE) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    admins.push({ ...p, publicKey: openSshPublicKey(publicKey, `${p.user}@fabrikam`) });
    privateKeys[p.user] = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  }
  return { admins, privateKeys };
}

export function hostEnv(env: Record<string, unknown>): HostLabEnv {
  return env as unknown as HostLabEnv;
}
