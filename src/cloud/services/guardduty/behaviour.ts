// GuardDuty findings from behaviour in CloudTrail management and S3 data events. To be written.
import type { BehaviourSource, GuardDutyHost } from './sources.ts';

export function callBehaviour(_host: GuardDutyHost): BehaviourSource {
  return {};
}
