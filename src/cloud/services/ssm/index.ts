// AWS Systems Manager in the lab cloud: what moto 5.2 lacks and the lab cloud can answer faithfully.
// No instance of the lab cloud runs the SSM Agent (moto's instances are not managed nodes) and moto
// has no compliance data (PutComplianceItems is unimplemented), so DescribeInstanceInformation lists
// no managed nodes and ListResourceComplianceSummaries no resources, as AWS answers an account
// without managed nodes. Everything else goes to moto (parameters, documents...).
import { ApiError } from '../../gateway/api-error.ts';
import { jsonResult, type CallContext, type Reply, type ServiceExtension } from '../../gateway/extension.ts';
import { defineService, type ServiceRuntime } from '../../gateway/service.ts';

/** Filter keys DescribeInstanceInformation accepts (InstanceInformationStringFilter; API reference). */
const INSTANCE_FILTER_KEYS = new Set([
  'InstanceIds', 'AgentVersion', 'PingStatus', 'PlatformTypes', 'ActivationIds', 'IamRole', 'ResourceType',
  'AssociationStatus', 'tag-key', 'SourceIds', 'SourceTypes',
]);

export class SsmService implements ServiceRuntime {
  readonly extensions: ServiceExtension[] = [{ service: 'ssm', serve: (ctx) => this.serve(ctx) }];

  private async serve({ call, requestId }: CallContext): Promise<Reply | undefined> {
    const p = call.params;
    switch (call.operation) {
      case 'DescribeInstanceInformation': {
        const filters = Array.isArray(p['Filters']) ? (p['Filters'] as Array<Record<string, unknown>>) : [];
        for (const f of filters) {
          const k = String(f['Key'] ?? '');
          if (!INSTANCE_FILTER_KEYS.has(k) && !k.startsWith('tag:')) throw new ApiError(400, 'InvalidFilterKey', `The filter key ${k} is not valid.`);
        }
        return jsonResult({ InstanceInformationList: [] }, requestId);
      }
      case 'ListResourceComplianceSummaries':
        return jsonResult({ ResourceComplianceSummaryItems: [] }, requestId);
      default:
        return undefined;
    }
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    ssm: SsmService;
  }
}

export const ssmService = defineService('ssm', () => new SsmService());
