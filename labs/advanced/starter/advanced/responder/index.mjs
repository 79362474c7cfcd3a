// Your responder: a Lambda function (Node.js 20) that solution.ts deploys. EventBridge rules invoke it
// with GuardDuty findings ({ source: 'aws.guardduty', 'detail-type': 'GuardDuty Finding', detail: <the
// finding> }) and with your detector's anomaly events ({ source: 'northwind.anomaly', detail: { host,
// instanceId, score, reasons... } }). It runs with its execution role's credentials, so it can do
// exactly what that role allows. The AWS SDK v3 is available, as in the real Lambda runtime.
// import { EC2Client, ModifyInstanceAttributeCommand, CreateNetworkAclEntryCommand } from '@aws-sdk/client-ec2';
// import { IAMClient, PutRolePolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
// import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';

export const handler = async (event) => {
  console.log(`${event.source} ${event['detail-type']}: ${event.detail?.type ?? event.detail?.host}`);
  // TODO: by finding type — isolate the instance, revoke the role's sessions, disable the access key,
  // or block the address; never act on the known scanner or an archived finding; tell the admins.
  return { actions: [] };
};
