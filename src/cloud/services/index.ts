// Every emulated service of the lab cloud, one folder each. The order is the flush order of
// time-driven work (flow logs are delivered before CloudTrail's files, as before) and the order of
// hooks on a signing name. A new service: a folder with an index.ts exporting its module, one line here.
import type { ServiceModule } from '../gateway/service.ts';
import { iamService } from './iam/index.ts';
import { stsService } from './sts/index.ts';
import { ec2Service } from './ec2/index.ts';
import { cloudtrailService } from './cloudtrail/index.ts';
import { s3Service } from './s3/index.ts';
import { kmsService } from './kms/index.ts';
import { lambdaService } from './lambda/index.ts';
import { snsService } from './sns/index.ts';
import { logsService } from './logs/index.ts';
import { cloudwatchService } from './cloudwatch/index.ts';
import { eventsService } from './events/index.ts';
import { organizationsService } from './organizations/index.ts';
import { accountService } from './account/index.ts';
import { ssmService } from './ssm/index.ts';
import { s3controlService } from './s3control/index.ts';
import { acmService } from './acm/index.ts';
import { macie2Service } from './macie2/index.ts';
import { route53resolverService } from './route53resolver/index.ts';
import { guarddutyService } from './guardduty/index.ts';

export const services: ServiceModule[] = [
  iamService, stsService, ec2Service, cloudtrailService, s3Service, kmsService, lambdaService, snsService,
  logsService, cloudwatchService, eventsService, organizationsService,
  accountService, ssmService, s3controlService, acmService, macie2Service, route53resolverService, guarddutyService,
];
