// Your anomaly detector: a Lambda function (Node.js 20) that solution.ts deploys with your model file
// (model.json) in its package. A subscription filter on the flow-log group invokes it with batches of
// flow-log records, as CloudWatch Logs does on AWS: { awslogs: { data: <base64 of gzipped JSON> } },
// the JSON being { logGroup, logStream, logEvents: [{ id, timestamp, message }] }, one flow-log record
// per message. It runs with its execution role's credentials; the AWS SDK v3 is available.
// import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
// import { readFileSync } from 'node:fs';
// import { decodeSubscription, parseFlowRecords, loadModel, createDetector, anomalyEvent } from 'seclab/kit/anomaly';
// const model = loadModel(readFileSync(new URL('./model.json', import.meta.url), 'utf8'));

export const handler = async (event) => {
  console.log(`a batch of ${event?.awslogs?.data?.length ?? 0} base64 characters`);
  // TODO: decodeSubscription(event), parseFlowRecords(batch.logEvents), createDetector(model)
  // .detect(records), and PutEvents one anomalyEvent(alert, { source, detailType }) per alert on the
  // default bus (source and detail-type from env.anomalyEvents, passed in the function's environment).
  // Each invocation is a fresh process: keep detector.state() somewhere (S3) for the next one.
  return { alerts: 0 };
};
