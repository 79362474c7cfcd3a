// Every credential the gateway can verify: account roots it minted, IAM users' access keys it saw
// created, and session credentials from STS. moto stores keys but never checks them; we do.
import { randomBytes } from 'node:crypto';

export interface Credential {
  accessKeyId: string;
  secret: string;
  sessionToken?: string;
  account: string;
  kind: 'root' | 'user' | 'session' | 'role-session';
  /** IAM user name for 'user' and for sessions obtained by a user. */
  userName?: string;
  userId?: string;
  /** arn:aws:iam::ACCT:user/NAME, arn:aws:iam::ACCT:root, arn:aws:sts::ACCT:assumed-role/R/S */
  arn: string;
  roleName?: string;
  roleArn?: string;
  sessionName?: string;
  status: 'Active' | 'Inactive' | 'Deleted';
  /** Sessions: whether they were obtained with a valid MFA code, and when (lab clock). */
  mfaAuthenticated?: boolean;
  issuedAt?: Date;
  mfaAuthTime?: Date;
  expiresAt?: Date;
  /** The long-term key a session was obtained with (for CloudTrail's userIdentity). */
  parentAccessKeyId?: string;
  /** Instance role credentials: the IMDS version they were delivered by ('1.0' once IMDSv1 handed them out). */
  ec2RoleDelivery?: '1.0' | '2.0';
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
export function newAccessKeyId(prefix: 'AKIA' | 'ASIA'): string {
  const bytes = randomBytes(16);
  let id = prefix;
  for (let i = 0; i < 16; i++) id += ALPHABET[bytes[i]! % 32];
  return id;
}
export function newSecret(): string {
  return randomBytes(30).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, 40);
}

export class CredentialStore {
  private byKey = new Map<string, Credential>();

  /** Refuses an id already in use: two principals behind one key would mix up identities. */
  add(cred: Credential): Credential {
    if (this.byKey.has(cred.accessKeyId)) throw new Error(`access key ${cred.accessKeyId} is already in use`);
    this.byKey.set(cred.accessKeyId, cred);
    return cred;
  }

  get(accessKeyId: string): Credential | undefined {
    return this.byKey.get(accessKeyId);
  }

  remove(accessKeyId: string): void {
    this.byKey.delete(accessKeyId);
  }

  setStatus(accessKeyId: string, status: Credential['status']): void {
    const c = this.byKey.get(accessKeyId);
    if (c) c.status = status;
  }

  /** Deleting a user or resetting an account ends its credentials and every session made from them. */
  forUser(account: string, userName: string): Credential[] {
    return [...this.byKey.values()].filter((c) => c.account === account && c.userName === userName);
  }

  dropAccount(account: string): void {
    for (const [k, c] of this.byKey) if (c.account === account) this.byKey.delete(k);
  }
}
