// GuardDuty findings from VPC flow logs (GuardDuty's own stream of every judged flow). To be written.
import type { BehaviourSource, GuardDutyHost } from './sources.ts';

export function flowBehaviour(_host: GuardDutyHost): BehaviourSource {
  return {};
}
