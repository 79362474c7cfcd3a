// Lambda in the gateway: keeps deployment packages and answers Invoke by running the handler.
import type { ServiceExtension } from '../../gateway/extension.ts';
import { ApiError } from '../../gateway/api-error.ts';
import { packageProblem } from './package.ts';
import type { LambdaRunner } from './runner.ts';

export function lambdaExtension(lambda: LambdaRunner): ServiceExtension {
  return {
    service: 'lambda',

    async serve({ cred, call, requestId }) {
      if (call.operation !== 'Invoke') return undefined;
      const name = String(call.params['FunctionName'] ?? '');
      const raw = call.params['Payload'];
      let event: unknown = {};
      try {
        event = typeof raw === 'string' && raw.length ? JSON.parse(raw) : {};
      } catch {
        // Refused (and recorded in CloudTrail as the error it is), in Lambda's REST-JSON error format.
        throw new ApiError(400, 'InvalidRequestContentException', 'Could not parse request body into json');
      }
      if (call.params['InvocationType'] === 'Event') {
        // AWS refuses an unknown function before queueing the event (404), as for RequestResponse.
        await lambda.assertExists(cred.account, call.region, name);
        lambda.invokeAsync(cred.account, call.region, name, event);
        return { status: 202, headers: { 'x-amzn-requestid': requestId }, body: '' };
      }
      const r = await lambda.invoke(cred.account, call.region, name, event);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': r.requestId, 'x-amz-executed-version': '$LATEST' };
      if (r.functionError) headers['x-amz-function-error'] = r.functionError;
      if (call.params['LogType'] === 'Tail') headers['x-amz-log-result'] = Buffer.from(r.logs.join('\n').slice(-4096)).toString('base64');
      return { status: 200, headers, body: JSON.stringify(r.payload) };
    },

    /** AWS's package limits, checked before anything is stored or unpacked (a zip bomb must not reach the lab cloud's memory). */
    async before({ call }) {
      if (call.operation !== 'CreateFunction' && call.operation !== 'UpdateFunctionCode') return;
      const zip = call.operation === 'CreateFunction' ? (call.params['Code'] as { ZipFile?: string } | undefined)?.ZipFile : call.params['ZipFile'];
      if (typeof zip !== 'string') return;
      const problem = packageProblem(Buffer.from(zip, 'base64'));
      if (problem) throw new ApiError(problem.status, problem.code, problem.message);
    },

    async after({ call }, res) {
      if (call.operation === 'GetFunction') {
        // moto's Code.Location points at a host of its own that no client can reach: AWS hands out a
        // presigned URL valid for 10 minutes; the lab cloud hands out a link of its own, as unguessable.
        const out = JSON.parse(res.body.toString('utf8')) as { Configuration?: { FunctionArn?: string }; Code?: { Location?: string } };
        const arn = out.Configuration?.FunctionArn;
        const location = arn ? lambda.codeLink(arn) : undefined;
        if (!location || !out.Code) return;
        out.Code.Location = location;
        return { ...res, body: Buffer.from(JSON.stringify(out)) };
      }
      if (call.operation !== 'CreateFunction' && call.operation !== 'UpdateFunctionCode') return;
      const zip = call.operation === 'CreateFunction' ? (call.params['Code'] as { ZipFile?: string } | undefined)?.ZipFile : call.params['ZipFile'];
      const arn = (JSON.parse(res.body.toString('utf8')) as { FunctionArn?: string }).FunctionArn;
      if (typeof zip === 'string' && arn) lambda.storeCode(arn, Buffer.from(zip, 'base64'));
    },
  };
}
