// KMS in the gateway: key policies are read for authorization; drop the cached one when it changes.
import type { ServiceExtension } from '../../gateway/extension.ts';

export const kmsExtension: ServiceExtension = {
  service: 'kms',
  async after({ gateway, cred, call }) {
    if (call.operation === 'PutKeyPolicy') gateway.policies.invalidateKey(cred.account, String(call.params['KeyId'] ?? ''));
  },
};
