// STS in the gateway: GetCallerIdentity from the gateway's own knowledge of the caller, MFA codes
// checked on GetSessionToken and AssumeRole, and the session credentials they hand out.
import { ApiError } from '../../gateway/api-error.ts';
import { randomBytes } from 'node:crypto';
import { queryResult, xmlEscape, type ServiceExtension } from '../../gateway/extension.ts';
import { newAccessKeyId, newSecret } from '../../gateway/credentials.ts';
import type { StsService } from './index.ts';

export function stsExtension(sts: StsService): ServiceExtension {
  return {
    service: 'sts',

    // AWS's fixed rules, before any policy: GetSessionToken credentials call STS only for AssumeRole
    // and GetCallerIdentity; "Roles may not be assumed by root accounts" (long-term keys and sessions alike).
    async admit({ cred, call }) {
      if (cred.kind === 'session' && !['AssumeRole', 'GetCallerIdentity'].includes(call.operation)) {
        throw new ApiError(403, 'AccessDenied', `Cannot call ${call.operation} with session credentials`);
      }
      if (cred.kind === 'root' && call.operation.startsWith('AssumeRole')) {
        throw new ApiError(403, 'AccessDenied', 'Roles may not be assumed by root accounts.');
      }
    },

    async serve({ cred, call, requestId }) {
      if (call.operation !== 'GetCallerIdentity') return undefined;
      const userId = cred.kind === 'root' ? cred.account : cred.kind === 'role-session' ? `${cred.userId}:${cred.sessionName}` : cred.userId ?? cred.accessKeyId;
      return queryResult('sts', 'GetCallerIdentity', `<Arn>${xmlEscape(cred.arn)}</Arn><UserId>${xmlEscape(userId ?? '')}</UserId><Account>${cred.account}</Account>`, requestId);
    },

    async before({ cred, call }) {
      const p = call.params;
      if (call.operation === 'GetSessionToken' && cred.kind !== 'user' && cred.kind !== 'root') {
        throw new ApiError(403, 'AccessDenied', 'Cannot call GetSessionToken with session credentials');
      }
      if (call.operation === 'GetSessionToken' || call.operation === 'AssumeRole') {
        // The ranges AWS accepts (GetSessionToken: 15 min to 36 h, for the root user 15 min to 1 h;
        // AssumeRole: 15 min to 12 h).
        const max = call.operation === 'GetSessionToken' ? (cred.kind === 'root' ? 3600 : 129_600) : 43_200;
        const d = p['DurationSeconds'];
        if (d !== undefined && !(Number.isInteger(Number(d)) && Number(d) >= 900 && Number(d) <= max)) {
          throw new ApiError(400, 'ValidationError', `1 validation error detected: Value '${String(d)}' at 'durationSeconds' failed to satisfy constraint: Member must have value ${Number(d) < 900 ? 'greater than or equal to 900' : `less than or equal to ${max}`}`);
        }
        // Role chaining (a role session assuming a role) is limited to one hour.
        if (call.operation === 'AssumeRole' && cred.kind === 'role-session' && d !== undefined && Number(d) > 3600) {
          throw new ApiError(400, 'ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
        }
        // And by the role's MaxSessionDuration (1 h unless the role says up to 12 h).
        const roleArn = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(String(p['RoleArn'] ?? ''));
        if (call.operation === 'AssumeRole' && d !== undefined && Number(d) > 3600 && roleArn) {
          const role = await sts.target.json<{ Role?: { MaxSessionDuration?: number } }>(roleArn[1]!, 'iam', 'GetRole', { RoleName: roleArn[2]! }).then((r) => r.Role, () => undefined);
          if (role && Number(d) > (role.MaxSessionDuration ?? 3600)) {
            throw new ApiError(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
          }
        }
      }
      if ((call.operation !== 'GetSessionToken' && call.operation !== 'AssumeRole') || p['SerialNumber'] === undefined) return;
      const serial = String(p['SerialNumber']);
      const device = sts.mfa.get(cred.account, serial);
      const owner = cred.kind === 'user' ? cred.userName : undefined;
      if (!device || !device.enabled || (call.operation === 'GetSessionToken' && device.userName !== owner)) {
        throw new ApiError(403, 'AccessDenied', 'MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.');
      }
      const step = sts.mfa.checkCode(device, String(p['TokenCode'] ?? ''), sts.clock.timesSeenBy(cred.account));
      if (step === undefined) throw new ApiError(403, 'AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code. ');
      device.lastStep = step;
    },

    async after({ cred, call }, res) {
      if (call.operation !== 'GetSessionToken' && call.operation !== 'AssumeRole') return;
      const p = call.params;
      // A role session belongs to the role's account, which may be another than the caller's
      // (the gateway authorized the role ARN's account's trust policy).
      const roleAccount = call.operation === 'AssumeRole' ? /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(String(p['RoleArn'] ?? ''))?.[1] : undefined;
      const account = roleAccount ?? cred.account;
      const now = sts.clock.now();
      const withMfa = p['SerialNumber'] !== undefined;
      // Defaults: GetSessionToken 12 h (the root user: 1 h, its maximum), AssumeRole 1 h.
      const durationS = Number(p['DurationSeconds'] ?? (call.operation === 'GetSessionToken' && cred.kind !== 'root' ? 43200 : 3600));
      // moto hands every GetSessionToken caller the same documentation example key: mint fresh,
      // unique credentials and put them in the response instead.
      const expiresAt = new Date(now.getTime() + durationS * 1000);
      const base = {
        accessKeyId: newAccessKeyId('ASIA'), secret: newSecret(), sessionToken: randomBytes(96).toString('base64'),
        account, status: 'Active' as const, issuedAt: now, mfaAuthenticated: withMfa, ...(withMfa ? { mfaAuthTime: now } : {}),
        expiresAt, parentAccessKeyId: cred.accessKeyId,
      };
      if (call.operation === 'GetSessionToken') {
        sts.credentials.add({ ...base, kind: cred.kind === 'root' ? 'root' : 'session', userName: cred.userName, userId: cred.userId, arn: cred.arn });
      } else {
        const roleArn = String(p['RoleArn']);
        const roleName = roleArn.split('/').pop() ?? '';
        const sessionName = String(p['RoleSessionName'] ?? 'session');
        const role = (await sts.policies.account(account)).roles.get(roleName);
        sts.credentials.add({
          ...base, kind: 'role-session', roleName, roleArn, sessionName, userId: role?.RoleId,
          arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`,
        });
      }
      const body = res.body.toString('utf8')
        .replace(/<AccessKeyId>[^<]*<\/AccessKeyId>/, `<AccessKeyId>${base.accessKeyId}</AccessKeyId>`)
        .replace(/<SecretAccessKey>[^<]*<\/SecretAccessKey>/, `<SecretAccessKey>${xmlEscape(base.secret)}</SecretAccessKey>`)
        .replace(/<SessionToken>[^<]*<\/SessionToken>/, `<SessionToken>${xmlEscape(base.sessionToken)}</SessionToken>`)
        .replace(/<Expiration>[^<]*<\/Expiration>/, `<Expiration>${expiresAt.toISOString()}</Expiration>`);
      return { ...res, body: Buffer.from(body) };
    },
  };
}
