// IAM in the gateway: keys the gateway must verify, MFA devices checked with real TOTP, user
// permission boundaries (moto 5.2 lacks PutUserPermissionsBoundary), SimulatePrincipalPolicy.
import { ApiError } from '../../gateway/api-error.ts';
import { queryResult, xmlEscape, xmlTag, type CallContext, type ServiceExtension } from '../../gateway/extension.ts';
import { isReadOnly } from '../cloudtrail/recorder.ts';
import { simulatePrincipalPolicy, type SimulateInput } from './simulate.ts';
import { addRootRow, rewriteAccountSummary, serveAccountOperation } from './account.ts';
import { checkDeleteConflict } from './conflicts.ts';
import { children, childText, motoQuery, PAGINATED, resultElement, servePaginated, type MemberRewrite } from './pagination.ts';
import type { IamCall, IamService } from './index.ts';

export function iamExtension(iam: IamService): ServiceExtension {
  const withIam = (ctx: CallContext): IamCall => ({ ...ctx, iam });
  return {
    service: 'iam',

    // GetSessionToken credentials call IAM only when the session was obtained with MFA (before any policy).
    async admit({ cred }) {
      if (cred.kind === 'session' && !cred.mfaAuthenticated) {
        throw new ApiError(403, 'AccessDenied', 'Cannot call IAM APIs with session credentials obtained without MFA authentication.');
      }
    },

    async serve(callCtx) {
      const ctx = withIam(callCtx);
      const { cred, call, requestId } = ctx;
      const p = call.params;
      const account = await serveAccountOperation(ctx);
      if (account) return account;
      if (PAGINATED[call.operation] && !call.operation.startsWith('Simulate')) return servePaginated(ctx, memberRewrite(ctx));
      if (call.operation === 'SimulatePrincipalPolicy') {
        return queryResult('iam', call.operation, await simulatePrincipalPolicy(iam, cred.account, p as unknown as SimulateInput), requestId);
      }
      if (call.operation === 'TagMFADevice' || call.operation === 'UntagMFADevice') {
        const serial = String(p['SerialNumber'] ?? '');
        const device = iam.mfa.get(cred.account, serial);
        if (!device) throw new ApiError(404, 'NoSuchEntity', `MFA device with serial number ${serial} cannot be found.`);
        const tags = new Map((device.tags ?? []).map((t) => [t.Key, t.Value]));
        if (call.operation === 'TagMFADevice') {
          for (const t of (Array.isArray(p['Tags']) ? p['Tags'] : []) as { Key?: string; Value?: string }[]) tags.set(String(t.Key ?? ''), String(t.Value ?? ''));
          if (tags.size > 50) throw new ApiError(409, 'LimitExceeded', 'The number of tags has reached the maximum limit.');
        } else {
          for (const k of (Array.isArray(p['TagKeys']) ? p['TagKeys'] : []) as string[]) tags.delete(String(k));
        }
        device.tags = [...tags].map(([Key, Value]) => ({ Key, Value }));
        return queryResult('iam', call.operation, '', requestId);
      }
      if (call.operation === 'PutUserPermissionsBoundary' || call.operation === 'DeleteUserPermissionsBoundary') {
        const userName = String(p['UserName'] ?? '');
        const details = await iam.policies.account(cred.account);
        if (!details.users.has(userName)) throw new ApiError(404, 'NoSuchEntity', `The user with name ${userName} cannot be found.`);
        let arn: string | undefined;
        if (call.operation === 'PutUserPermissionsBoundary') {
          arn = String(p['PermissionsBoundary'] ?? '');
          if (!details.managed.has(arn) && !arn.startsWith('arn:aws:iam::aws:policy/')) throw new ApiError(400, 'InvalidInput', `ARN ${arn} is not valid.`);
        }
        iam.policies.setUserBoundary(cred.account, userName, arn);
        return queryResult('iam', call.operation, '', requestId);
      }
      return undefined;
    },

    async before(callCtx) {
      const ctx = withIam(callCtx);
      const { cred, call } = ctx;
      await checkDeleteConflict(ctx);
      if (call.operation !== 'EnableMFADevice' && call.operation !== 'ResyncMFADevice') return;
      const p = call.params;
      const serial = String(p['SerialNumber'] ?? '');
      const device = iam.mfa.get(cred.account, serial);
      if (!device) throw new ApiError(404, 'NoSuchEntity', `VirtualMFADevice with serial number ${serial} doesn't exist.`);
      if (call.operation === 'EnableMFADevice' && device.enabled) throw new ApiError(409, 'EntityAlreadyExists', 'MFA Device is already in use.');
      const step = iam.mfa.checkConsecutive(device, String(p['AuthenticationCode1'] ?? ''), String(p['AuthenticationCode2'] ?? ''), iam.clock.timesSeenBy(cred.account));
      if (step === undefined) throw new ApiError(403, 'InvalidAuthenticationCode', 'Authentication code for device is not valid.');
      device.lastStep = step;
    },

    async after(callCtx, res) {
      const ctx = withIam(callCtx);
      const { cred, call } = ctx;
      const p = call.params;
      const account = cred.account;
      if (!isReadOnly(call.operation)) iam.policies.invalidate(account);
      const body = () => res.body.toString('utf8');
      switch (call.operation) {
        case 'GetUser': {
          const xml = body();
          const user = /<User>[\s\S]*<\/User>/.exec(xml)?.[0];
          const rewritten = user && withUserBoundary(ctx, user);
          return rewritten && rewritten !== user ? { ...res, body: Buffer.from(xml.replace(user, rewritten)) } : undefined;
        }
        case 'GetAccountSummary':
          return { ...res, body: Buffer.from(rewriteAccountSummary(ctx, body())) };
        case 'GetCredentialReport': {
          const xml = body();
          const content = xmlTag(xml, 'Content');
          if (content === undefined) return;
          const csv = addRootRow(ctx, Buffer.from(content, 'base64').toString('utf8'));
          return { ...res, body: Buffer.from(xml.replace(/<Content>[^<]*<\/Content>/, `<Content>${Buffer.from(csv).toString('base64')}</Content>`)) };
        }
        case 'CreateAccessKey': {
          const xml = body();
          const userName = xmlTag(xml, 'UserName') ?? cred.userName ?? '';
          const user = (await iam.policies.account(account)).users.get(userName);
          iam.credentials.add({
            accessKeyId: xmlTag(xml, 'AccessKeyId') ?? '', secret: xmlTag(xml, 'SecretAccessKey') ?? '', account, kind: 'user',
            userName, userId: user?.UserId, arn: user?.Arn ?? `arn:aws:iam::${account}:user/${userName}`, status: 'Active',
          });
          break;
        }
        case 'UpdateAccessKey':
          iam.credentials.setStatus(String(p['AccessKeyId']), p['Status'] === 'Active' ? 'Active' : 'Inactive');
          break;
        case 'DeleteAccessKey':
          iam.credentials.setStatus(String(p['AccessKeyId']), 'Deleted');
          break;
        case 'DeleteUser':
          for (const c of iam.credentials.forUser(account, String(p['UserName']))) c.status = 'Deleted';
          iam.policies.setUserBoundary(account, String(p['UserName']), undefined);
          break;
        case 'CreateUser':
          if (p['PermissionsBoundary']) iam.policies.setUserBoundary(account, String(p['UserName']), String(p['PermissionsBoundary']));
          break;
        case 'CreateVirtualMFADevice': {
          const xml = body();
          // moto base64-encodes the Base32 seed once more in the XML, as the SDK expects of a blob.
          const seed = Buffer.from(xmlTag(xml, 'Base32StringSeed') ?? '', 'base64').toString('utf8');
          iam.mfa.add({ account, serial: xmlTag(xml, 'SerialNumber') ?? '', seedBase32: seed });
          const tags = (Array.isArray(p['Tags']) ? p['Tags'] : []) as { Key?: string; Value?: string }[];
          const device = iam.mfa.get(account, xmlTag(xml, 'SerialNumber') ?? '');
          if (device && tags.length) device.tags = tags.map((t) => ({ Key: String(t.Key ?? ''), Value: String(t.Value ?? '') }));
          break;
        }
        case 'EnableMFADevice': {
          const d = iam.mfa.get(account, String(p['SerialNumber']));
          if (d) Object.assign(d, { enabled: true, userName: String(p['UserName']) });
          break;
        }
        case 'DeactivateMFADevice': {
          const d = iam.mfa.get(account, String(p['SerialNumber']));
          if (d) Object.assign(d, { enabled: false, userName: undefined });
          break;
        }
        case 'DeleteVirtualMFADevice':
          iam.mfa.remove(account, String(p['SerialNumber']));
          break;
      }
    },
  };
}

/** What the gateway changes in the members of a page moto listed. */
function memberRewrite(ctx: IamCall): MemberRewrite | undefined {
  switch (ctx.call.operation) {
    case 'ListUsers':
      return (_key, m) => withUserBoundary(ctx, m);
    case 'ListVirtualMFADevices':
      // AWS returns a device's seed and QR code only from CreateVirtualMFADevice: whoever may list
      // devices must not read another user's seed.
      return (_key, m) => m.replace(/<Base32StringSeed>[^<]*<\/Base32StringSeed>|<Base32StringSeed\/>|<QRCodePNG>[^<]*<\/QRCodePNG>|<QRCodePNG\/>/g, '');
    case 'GetAccountAuthorizationDetails': {
      // moto's ManagedPolicyDetail lacks PolicyName and PolicyId.
      let ids: Promise<Map<string, string>> | undefined;
      const policyIds = async () => {
        const up = await motoQuery(ctx, 'ListPolicies', { Scope: 'All', MaxItems: '1000000' });
        const out = new Map<string, string>();
        const result = resultElement(up.xml, 'ListPolicies');
        const list = result && children(up.xml, result.innerStart, result.innerEnd).find((e) => e.name === 'Policies');
        if (list) for (const m of children(up.xml, list.innerStart, list.innerEnd)) {
          const arn = childText(up.xml, m, 'Arn');
          const id = childText(up.xml, m, 'PolicyId');
          if (arn && id) out.set(arn, id);
        }
        return out;
      };
      return async (key, m) => {
        if (key === 'UserDetailList') return withUserBoundary(ctx, m);
        if (key !== 'Policies' || m.includes('<PolicyName>')) return m;
        const arn = /<Arn>([^<]*)<\/Arn>/.exec(m)?.[1] ?? '';
        const name = arn.split('/').pop() ?? '';
        const id = (await (ids ??= policyIds())).get(arn.replace(/&amp;/g, '&')) ?? '';
        const extra = `<PolicyName>${name}</PolicyName>${id ? `<PolicyId>${id}</PolicyId>` : ''}`;
        return m.replace(/^<member>/, `<member>${extra}`);
      };
    }
  }
  return undefined;
}

/** A user's permissions boundary, which the gateway keeps (moto 5.2 lacks PutUserPermissionsBoundary), in a user element. */
function withUserBoundary(ctx: IamCall, user: string): string {
  const name = xmlTag(user, 'UserName');
  const arn = name ? ctx.iam.policies.userBoundary(ctx.cred.account, name) : undefined;
  if (!arn || user.includes('<PermissionsBoundary>')) return user;
  const boundary = `<PermissionsBoundary><PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType><PermissionsBoundaryArn>${xmlEscape(arn)}</PermissionsBoundaryArn></PermissionsBoundary>`;
  return user.replace(/<\/(member|User)>$/, `${boundary}</$1>`);
}
