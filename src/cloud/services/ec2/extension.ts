// EC2 in the gateway: the VPC data plane re-reads the network after every change (a responder's new
// deny entry decides later flows), and flow-log formats moto does not check are checked.
import { ApiError } from '../../gateway/api-error.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import { isEc2Mutation, validateLogFormat } from './dataplane/index.ts';
import { checkImageExists, checkSecurityGroupsExist, ensureDefaultVpcInternet } from './conformance.ts';

export const ec2Extension: ServiceExtension = {
  service: 'ec2',

  async before({ gateway, cred, call }) {
    // AWS's default VPC reaches the internet (moto's lacks the gateway and route): see conformance.ts.
    if (await ensureDefaultVpcInternet(gateway.upstream, cred.account, call.region)) gateway.dataplane.invalidate(cred.account, call.region);
    if (call.operation === 'RunInstances' && call.params['ImageId'] !== undefined) await checkImageExists(gateway.upstream, cred.account, call.region, String(call.params['ImageId']));
    if (call.operation === 'DescribeSecurityGroups') await checkSecurityGroupsExist(gateway.upstream, cred.account, call.region, call.params);
    if (call.operation !== 'CreateFlowLogs' || call.params['LogFormat'] === undefined) return;
    const problem = validateLogFormat(String(call.params['LogFormat']));
    if (problem) throw new ApiError(400, 'InvalidParameter', problem);
  },

  async after({ gateway, cred, call }) {
    if (isEc2Mutation(call.operation)) await gateway.dataplane.afterEc2Call(cred.account, call.region, call.operation, call.params);
  },
};
