// KMS in the lab cloud: key policies take part in authorization (a key policy must allow its
// callers), an alias authorizes as the key it points to, and a changed key policy is read again.
import { defineService, type AuthorizationPart, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';

export class KmsService implements ServiceRuntime {
  readonly extensions: ServiceExtension[];
  readonly authorization: AuthorizationPart;

  constructor(private readonly caps: Capabilities) {
    this.extensions = [{
      service: 'kms',
      after: async ({ cred, call }) => {
        if (call.operation === 'PutKeyPolicy') this.policies.invalidateKey(cred.account, String(call.params['KeyId'] ?? ''));
      },
    }];
    this.authorization = {
      resourcePolicy: async ({ resource, owner, region }) => {
        const kms = /^arn:aws:kms:([^:]+):(\d{12}):key\/(.+)$/.exec(resource);
        if (!kms) return undefined;
        const doc = await this.policies.keyPolicy(owner, kms[1] ?? region, kms[3]!);
        return doc ? { source: `key policy of ${kms[3]}`, document: doc, account: kms[2]!, mustAllow: true } : 'none';
      },
      // Authorize against the key an alias points to, as KMS does.
      resolve: async (check, cred, call) => {
        if (!check.resolve?.kmsAliasArn) return check;
        const keyArn = await caps.target
          .json<{ KeyMetadata?: { Arn?: string } }>(cred.account, 'kms', 'DescribeKey', { KeyId: check.resolve.kmsAliasArn }, call.region)
          .then((r) => r.KeyMetadata?.Arn, () => undefined);
        return keyArn ? { ...check, resources: [keyArn] } : check;
      },
    };
  }

  /** Where key policies are read and cached. */
  get policies() {
    return this.caps.service('iam').policies;
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    kms: KmsService;
  }
}

export const kmsService = defineService('kms', (caps) => new KmsService(caps));
