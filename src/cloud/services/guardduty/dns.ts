// GuardDuty findings from DNS logs (instances' lookups through the VPC resolver). To be written.
import type { BehaviourSource, GuardDutyHost } from './sources.ts';

export function dnsBehaviour(_host: GuardDutyHost): BehaviourSource {
  return {};
}
