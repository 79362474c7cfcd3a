// IAM's state rules on deletion (DeleteConflict, HTTP 409). AWS refuses to delete a user, group, role
// or policy while something still refers to it (API reference: DeleteUser, DeleteGroup, DeleteRole,
// DeletePolicy, DeleteVirtualMFADevice); moto 5.2 checks only a user's and a role's policies and a role's instance profiles,
// so a solution that tears down IAM in the wrong order passed here and failed on AWS.
import { ApiError } from '../../gateway/api-error.ts';
import { children, motoQuery, resultElement } from './pagination.ts';
import type { IamCall } from './index.ts';

const conflict = (message: string) => new ApiError(409, 'DeleteConflict', message);

/** How many members the target lists for `operation` (0 when the entity does not exist: the target's own error follows). */
async function count(ctx: IamCall, operation: string, params: Record<string, unknown>, list: string): Promise<number> {
  const up = await motoQuery(ctx, operation, { ...params, MaxItems: '1000000' });
  if (up.status >= 300) return 0;
  const result = resultElement(up.xml, operation);
  if (!result) return 0;
  const el = children(up.xml, result.innerStart, result.innerEnd).find((e) => e.name === list);
  return el ? children(up.xml, el.innerStart, el.innerEnd).length : 0;
}

async function exists(ctx: IamCall, operation: string, params: Record<string, unknown>): Promise<boolean> {
  return (await motoQuery(ctx, operation, params)).status < 300;
}

/** Throws DeleteConflict when AWS would; the checks run in the order AWS's documentation lists the items. */
export async function checkDeleteConflict(ctx: IamCall): Promise<void> {
  const p = ctx.call.params;
  switch (ctx.call.operation) {
    case 'DeleteUser': {
      const u = { UserName: String(p['UserName'] ?? '') };
      if (!(await exists(ctx, 'GetUser', u))) return;
      if (await exists(ctx, 'GetLoginProfile', u)) throw conflict('Cannot delete entity, must delete login profile first.');
      if (await count(ctx, 'ListAccessKeys', u, 'AccessKeyMetadata')) throw conflict('Cannot delete entity, must delete access keys first.');
      if (await count(ctx, 'ListSigningCertificates', u, 'Certificates')) throw conflict('Cannot delete entity, must delete signing certificates first.');
      if (await count(ctx, 'ListSSHPublicKeys', u, 'SSHPublicKeys')) throw conflict('Cannot delete entity, must remove referenced objects first.');
      if (await count(ctx, 'ListMFADevices', u, 'MFADevices')) throw conflict('Cannot delete entity, must delete MFA device first.');
      if (await count(ctx, 'ListUserPolicies', u, 'PolicyNames')) throw conflict('Cannot delete entity, must delete policies first.');
      if (await count(ctx, 'ListAttachedUserPolicies', u, 'AttachedPolicies')) throw conflict('Cannot delete entity, must detach all policies first.');
      if (await count(ctx, 'ListGroupsForUser', u, 'Groups')) throw conflict('Cannot delete entity, must remove user from all groups first.');
      return;
    }
    case 'DeleteGroup': {
      const g = { GroupName: String(p['GroupName'] ?? '') };
      if (!(await exists(ctx, 'GetGroup', g))) return;
      if (await count(ctx, 'GetGroup', g, 'Users')) throw conflict('Cannot delete entity, must remove users from group first.');
      if (await count(ctx, 'ListGroupPolicies', g, 'PolicyNames')) throw conflict('Cannot delete entity, must delete policies first.');
      if (await count(ctx, 'ListAttachedGroupPolicies', g, 'AttachedPolicies')) throw conflict('Cannot delete entity, must detach all policies first.');
      return;
    }
    case 'DeleteRole': {
      const r = { RoleName: String(p['RoleName'] ?? '') };
      if (!(await exists(ctx, 'GetRole', r))) return;
      if (await count(ctx, 'ListInstanceProfilesForRole', r, 'InstanceProfiles')) throw conflict('Cannot delete entity, must remove roles from instance profile first.');
      if (await count(ctx, 'ListRolePolicies', r, 'PolicyNames')) throw conflict('Cannot delete entity, must delete policies first.');
      if (await count(ctx, 'ListAttachedRolePolicies', r, 'AttachedPolicies')) throw conflict('Cannot delete entity, must detach all policies first.');
      return;
    }
    case 'DeleteVirtualMFADevice': {
      // A device still assigned to a user must be deactivated first (DeactivateMFADevice).
      const device = ctx.iam.mfa.get(ctx.cred.account, String(p['SerialNumber'] ?? ''));
      if (device?.enabled) throw conflict('MFA Device is still in use.');
      return;
    }
    case 'DeletePolicy': {
      const arn = { PolicyArn: String(p['PolicyArn'] ?? '') };
      if (!(await exists(ctx, 'GetPolicy', arn))) return;
      const attached = (await count(ctx, 'ListEntitiesForPolicy', arn, 'PolicyUsers'))
        + (await count(ctx, 'ListEntitiesForPolicy', arn, 'PolicyGroups'))
        + (await count(ctx, 'ListEntitiesForPolicy', arn, 'PolicyRoles'));
      if (attached) throw conflict('Cannot delete a policy attached to entities.');
      if ((await count(ctx, 'ListPolicyVersions', arn, 'Versions')) > 1) {
        throw conflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
      }
      return;
    }
  }
}
