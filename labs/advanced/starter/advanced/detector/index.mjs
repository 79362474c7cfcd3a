// Your anomaly detector: a Lambda function (Node.js 20) that solution.ts deploys with your model file
// (model.json) in its package. A subscription filter on the flow-log group invokes it with batches of
// flow-log records, as CloudWatch Logs does on AWS: { awslogs: { data: <base64 of gzipped JSON> } },
// the JSON being { logGroup, logStream, logEvents: [{ id, timestamp, message }] }, one flow-log record
// per message. It runs with its execution role's credentials; the AWS SDK v3 is available.
// import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
// import { decodeSubscription, parseFlowRecords, loadModel } from 'seclab/kit/anomaly';

export const handler = async (event) => {
  console.log(`a batch of ${event?.awslogs?.data?.length ?? 0} base64 characters`);
  // TODO: decode the batch, score the records with your model, and put one event per alert on the
  // default bus (source and detail-type from env.anomalyEvents, passed in the function's environment).
  return { alerts: 0 };
};
