// STS in the lab cloud: GetCallerIdentity from the gateway's knowledge of the caller, MFA codes
// checked on GetSessionToken and AssumeRole, and the session credentials they hand out (extension.ts).
import { defineService, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import type { CredentialStore } from '../../gateway/credentials.ts';
import type { LabClock } from '../../gateway/clock.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import { stsExtension } from './extension.ts';

export class StsService implements ServiceRuntime {
  readonly clock: LabClock;
  readonly credentials: CredentialStore;
  readonly target: Upstream;
  readonly extensions: ServiceExtension[];

  constructor(private readonly caps: Capabilities) {
    this.clock = caps.clock;
    this.credentials = caps.credentials;
    this.target = caps.target;
    this.extensions = [stsExtension(this)];
  }

  /** IAM's MFA devices (codes are checked against them). */
  get mfa() {
    return this.caps.service('iam').mfa;
  }

  /** IAM's view of roles (a role session carries the role's id). */
  get policies() {
    return this.caps.service('iam').policies;
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    sts: StsService;
  }
}

export const stsService = defineService('sts', (caps) => new StsService(caps));
