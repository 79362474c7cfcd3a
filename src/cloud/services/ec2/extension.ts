// EC2 in the gateway: the VPC data plane re-reads the network after every change (a responder's new
// deny entry decides later flows), and flow-log formats moto does not check are checked.
import { ApiError } from '../../gateway/api-error.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import { isEc2Mutation, validateLogFormat } from './dataplane/index.ts';
import { checkImageExists, checkSecurityGroupsExist, ensureDefaultVpcInternet } from './conformance.ts';
import type { Ec2Service } from './index.ts';

export function ec2Extension(ec2: Ec2Service): ServiceExtension {
  return {
    service: 'ec2',

    async before({ cred, call }) {
      // AWS's default VPC reaches the internet (moto's lacks the gateway and route): see conformance.ts.
      if (await ensureDefaultVpcInternet(ec2.target, cred.account, call.region)) ec2.dataplane.invalidate(cred.account, call.region);
      if (call.operation === 'RunInstances' && call.params['ImageId'] !== undefined) await checkImageExists(ec2.target, cred.account, call.region, String(call.params['ImageId']));
      if (call.operation === 'DescribeSecurityGroups') await checkSecurityGroupsExist(ec2.target, cred.account, call.region, call.params);
      if (call.operation !== 'CreateFlowLogs' || call.params['LogFormat'] === undefined) return;
      const problem = validateLogFormat(String(call.params['LogFormat']));
      if (problem) throw new ApiError(400, 'InvalidParameter', problem);
    },

    async after({ cred, call }) {
      if (isEc2Mutation(call.operation)) await ec2.dataplane.afterEc2Call(cred.account, call.region, call.operation, call.params);
    },
  };
}
