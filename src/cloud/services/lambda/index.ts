// Lambda in the lab cloud: deployment packages kept, handlers run in a sandbox as the function's
// execution role (runner.ts), Invoke answered here (extension.ts).
export { LambdaRunner, lambdaService } from './runner.ts';
