// For code seclab runs from outside its own folder (students' solutions, Lambda packages): bare
// imports that code's folder cannot resolve (the AWS SDK, otpauth, seclab/kit) resolve from seclab's
// own dependencies, as the Lambda runtime ships the SDK. Registered as a Node module hook.
import { register } from 'node:module';

const FALLBACK = new URL('../../package.json', import.meta.url).href;
const HOOK = `
const FALLBACK = ${JSON.stringify(FALLBACK)};
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const bare = !/^(\\.|\\/|file:|node:|data:)/.test(specifier);
    if (bare && e && (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED')) return next(specifier, { ...context, parentURL: FALLBACK });
    throw e;
  }
}`;

export function registerFallbackResolve() {
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, import.meta.url);
}
