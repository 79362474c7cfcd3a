// Every emulated service's additions to the gateway, one folder each.
import type { ServiceExtension } from '../gateway/extension.ts';
import { iamExtension } from './iam/extension.ts';
import { stsExtension } from './sts/extension.ts';
import { cloudtrailExtension } from './cloudtrail/extension.ts';
import { s3Extension } from './s3/extension.ts';
import { kmsExtension } from './kms/extension.ts';
import { lambdaExtension } from './lambda/extension.ts';
import { snsExtension } from './sns/extension.ts';
import { logsExtension } from './logs/extension.ts';
import { filterLogEventsExtension } from './logs/filter-log-events.ts';
import { cloudwatchExtension } from './cloudwatch/extension.ts';
import { eventsExtension } from './events/extension.ts';
import { ec2Extension } from './ec2/extension.ts';
import { organizationsExtension } from './organizations/extension.ts';

export const extensions: ServiceExtension[] = [iamExtension, stsExtension, cloudtrailExtension, s3Extension, kmsExtension, lambdaExtension, snsExtension, logsExtension, filterLogEventsExtension, cloudwatchExtension, eventsExtension, ec2Extension, organizationsExtension];
