// Your responder: a Lambda function (Node.js 20) that solution.ts deploys. It runs in the lab cloud
// with its execution role's credentials, so it can do exactly what that role allows. The AWS SDK v3
// is available, as in the real Lambda runtime.
//
// Invoked by SNS (the alarm topic), the event is { Records: [{ Sns: { Message } }] } where Message is
// the alarm as JSON: AlarmName, NewStateValue, StateChangeTime, Trigger.MetricName...
// import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
// import { EC2Client, CreateNetworkAclEntryCommand, ModifyInstanceAttributeCommand } from '@aws-sdk/client-ec2';

export const handler = async (event) => {
  for (const record of event.Records ?? []) {
    const alarm = JSON.parse(record.Sns.Message);
    console.log(`alarm ${alarm.AlarmName} is ${alarm.NewStateValue}`);
    // TODO: find the offending address or instance in the flow logs (FilterLogEvents), then deny the
    // address in the network ACLs (a rule numbered below the allow rules) or isolate the instance.
  }
  return { actions: [] };
};
