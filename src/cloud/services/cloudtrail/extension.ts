// CloudTrail in the gateway: LookupEvents over the gateway's records, the digest signing keys, and
// the trail calls that start and stop delivery.
import { jsonResult, type ServiceExtension } from '../../gateway/extension.ts';
import { lookupEvents } from './recorder.ts';

export const cloudtrailExtension: ServiceExtension = {
  service: 'cloudtrail',

  async serve({ gateway, cred, call, requestId }) {
    if (call.operation === 'LookupEvents') return jsonResult(lookupEvents(gateway.trail.all(cred.account), call.params as never), requestId);
    if (call.operation === 'ListPublicKeys') return jsonResult({ PublicKeyList: gateway.cloudtrailDelivery.publicKeys(call.region) }, requestId);
    return undefined;
  },

  async after({ gateway, cred, call }) {
    if (['CreateTrail', 'StartLogging', 'StopLogging', 'DeleteTrail'].includes(call.operation)) {
      gateway.cloudtrailDelivery.noteCall(cred.account, call.region, call.operation, call.params, gateway.clock.nowMs());
    }
  },
};
