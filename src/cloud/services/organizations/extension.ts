// AWS Organizations in the organizations. moto keeps organizations, accounts, OUs and policies (and answers
// DescribeOrganization from member accounts); the gateway adds what AWS does around them:
// - CreateAccount makes a real lab-cloud account (its own root credentials, isolated like any other);
//   its OrganizationAccountAccessRole (or the RoleName asked for), which moto creates trusting the
//   management account but with no permissions, gets AdministratorAccess as in AWS;
// - an SCP can be attached only when the root has the SERVICE_CONTROL_POLICY type enabled
//   (PolicyTypeNotEnabledException; moto attaches it anyway);
// - a member account calling the management account's operations gets AccessDeniedException (moto
//   answers as if the account had no organization);
// - every change makes the authorizer read membership and SCPs again (see directory.ts), so SCPs,
//   aws:PrincipalOrgID and aws:ResourceOrgID take effect on the next request.
import { ApiError } from '../../gateway/api-error.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import { orgCall, OrgError } from './directory.ts';
import type { OrganizationsService } from './index.ts';

const READ_ONLY = /^(Describe|List)/;
const MEMBER_OPERATIONS = new Set(['DescribeOrganization', 'LeaveOrganization', 'AcceptHandshake', 'DeclineHandshake', 'DescribeHandshake', 'ListHandshakesForAccount']);

export function organizationsExtension(organizations: OrganizationsService): ServiceExtension {
  return {
    service: 'organizations',

    async before({ cred, call }) {
      // Most of the API is the management account's: a member account may look at its organization,
      // leave it and answer handshakes; a delegated administrator may also read (Describe*, List*).
      const membership = await organizations.membership(cred.account);
      if (membership && membership.managementAccount !== cred.account && !MEMBER_OPERATIONS.has(call.operation)) {
        const delegated = READ_ONLY.test(call.operation)
          && ((await orgCall<{ DelegatedAdministrators?: { Id: string }[] }>(organizations.target, membership.managementAccount, 'ListDelegatedAdministrators')).DelegatedAdministrators ?? []).some((d) => d.Id === cred.account);
        if (!delegated) throw new ApiError(400, 'AccessDeniedException', "You don't have permissions to access this resource.");
      }
      if (call.operation !== 'AttachPolicy') return;
      const policyId = String(call.params['PolicyId'] ?? '');
      let type: string | undefined;
      try {
        type = (await orgCall<{ Policy?: { PolicySummary?: { Type?: string } } }>(organizations.target, cred.account, 'DescribePolicy', { PolicyId: policyId })).Policy?.PolicySummary?.Type;
      } catch (e) {
        if (e instanceof OrgError) return; // the target answers the same error for the AttachPolicy itself
        throw e;
      }
      if (type !== 'SERVICE_CONTROL_POLICY') return;
      const roots = (await orgCall<{ Roots?: { PolicyTypes?: { Type: string; Status: string }[] }[] }>(organizations.target, cred.account, 'ListRoots')).Roots ?? [];
      const enabled = roots.some((r) => (r.PolicyTypes ?? []).some((t) => t.Type === type && t.Status === 'ENABLED'));
      if (!enabled) {
        throw new ApiError(400, 'PolicyTypeNotEnabledException', 'This operation can be performed only for enabled policy types.');
      }
    },

    async after({ call }, res) {
      if (READ_ONLY.test(call.operation)) return;
      organizations.invalidate();
      if (call.operation !== 'CreateAccount') return;
      const status = (JSON.parse(res.body.toString('utf8')) as { CreateAccountStatus?: { AccountId?: string } }).CreateAccountStatus;
      const id = status?.AccountId;
      if (!id) return;
      try {
        organizations.accounts.create(id);
      } catch {
        // Already a lab-cloud account (created before it joined).
      }
      const mgmt = (await orgCall<{ Organization?: { MasterAccountId?: string } }>(organizations.target, id, 'DescribeOrganization')).Organization?.MasterAccountId;
      const roleName = typeof call.params['RoleName'] === 'string' && call.params['RoleName'] ? call.params['RoleName'] : 'OrganizationAccountAccessRole';
      // moto creates the role with its trust policy but no permissions; AWS attaches AdministratorAccess.
      await organizations.target.json(id, 'iam', 'CreateRole', {
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${mgmt}:root` }, Action: 'sts:AssumeRole' }] }),
      }).catch((e: Error) => {
        if (e.name !== 'EntityAlreadyExists' && e.name !== 'EntityAlreadyExistsException') throw e;
      });
      await organizations.target.json(id, 'iam', 'AttachRolePolicy', { RoleName: roleName, PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' });
      organizations.policies.invalidate(id);
    },
  };
}
