// STS in the gateway: GetCallerIdentity from the gateway's own knowledge of the caller, MFA codes
// checked on GetSessionToken and AssumeRole, and the session credentials they hand out.
import { ApiError } from '../../gateway/api-error.ts';
import { queryResult, xmlEscape, xmlTag, type ServiceExtension } from '../../gateway/extension.ts';

export const stsExtension: ServiceExtension = {
  service: 'sts',

  async serve({ cred, call, requestId }) {
    if (call.operation !== 'GetCallerIdentity') return undefined;
    const userId = cred.kind === 'root' ? cred.account : cred.kind === 'role-session' ? `${cred.userId}:${cred.sessionName}` : cred.userId ?? cred.accessKeyId;
    return queryResult('sts', 'GetCallerIdentity', `<Arn>${xmlEscape(cred.arn)}</Arn><UserId>${xmlEscape(userId ?? '')}</UserId><Account>${cred.account}</Account>`, requestId);
  },

  async before({ gateway, cred, call }) {
    const p = call.params;
    if (call.operation === 'GetSessionToken' && cred.kind !== 'user' && cred.kind !== 'root') {
      throw new ApiError(403, 'AccessDenied', 'Cannot call GetSessionToken with session credentials');
    }
    if ((call.operation !== 'GetSessionToken' && call.operation !== 'AssumeRole') || p['SerialNumber'] === undefined) return;
    const serial = String(p['SerialNumber']);
    const device = gateway.mfa.get(cred.account, serial);
    const owner = cred.kind === 'user' ? cred.userName : undefined;
    if (!device || !device.enabled || (call.operation === 'GetSessionToken' && device.userName !== owner)) {
      throw new ApiError(403, 'AccessDenied', 'MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.');
    }
    const step = gateway.mfa.checkCode(device, String(p['TokenCode'] ?? ''), gateway.clock.nowMs());
    if (step === undefined) throw new ApiError(403, 'AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code. ');
    device.lastStep = step;
  },

  async after({ gateway, cred, call }, res) {
    if (call.operation !== 'GetSessionToken' && call.operation !== 'AssumeRole') return;
    const p = call.params;
    const account = cred.account;
    const xml = res.body.toString('utf8');
    const now = gateway.clock.now();
    const withMfa = p['SerialNumber'] !== undefined;
    const durationS = Number(p['DurationSeconds'] ?? (call.operation === 'GetSessionToken' ? 43200 : 3600));
    const base = {
      accessKeyId: xmlTag(xml, 'AccessKeyId') ?? '', secret: xmlTag(xml, 'SecretAccessKey') ?? '', sessionToken: xmlTag(xml, 'SessionToken') ?? '',
      account, status: 'Active' as const, issuedAt: now, mfaAuthenticated: withMfa, ...(withMfa ? { mfaAuthTime: now } : {}),
      expiresAt: new Date(now.getTime() + durationS * 1000), parentAccessKeyId: cred.accessKeyId,
    };
    if (call.operation === 'GetSessionToken') {
      gateway.credentials.add({ ...base, kind: cred.kind === 'root' ? 'root' : 'session', userName: cred.userName, userId: cred.userId, arn: cred.arn });
      return;
    }
    const roleArn = String(p['RoleArn']);
    const roleName = roleArn.split('/').pop() ?? '';
    const sessionName = String(p['RoleSessionName'] ?? 'session');
    const role = (await gateway.policies.account(account)).roles.get(roleName);
    gateway.credentials.add({
      ...base, kind: 'role-session', roleName, roleArn, sessionName, userId: role?.RoleId,
      arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`,
    });
  },
};
