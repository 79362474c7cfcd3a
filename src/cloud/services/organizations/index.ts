// AWS Organizations in the lab cloud: what the authorizer needs (membership, org paths, SCPs; read
// from the target by directory.ts) and what AWS does around moto's organizations (extension.ts).
import { defineService, type AuthorizationPart, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import { OrgDirectory } from './directory.ts';
import { organizationsExtension } from './extension.ts';

export class OrganizationsService extends OrgDirectory implements ServiceRuntime {
  readonly target: Upstream;
  readonly accounts: Capabilities['accounts'];
  readonly extensions: ServiceExtension[];
  readonly authorization: AuthorizationPart;

  constructor(private readonly caps: Capabilities) {
    super(caps.target);
    this.target = caps.target;
    this.accounts = caps.accounts;
    this.extensions = [organizationsExtension(this)];
    this.authorization = { membership: (account) => this.membership(account) };
  }

  /** IAM's policy cache (a new account's access role changes it). */
  get policies() {
    return this.caps.service('iam').policies;
  }

  dropAccount(): void {
    this.invalidate();
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    organizations: OrganizationsService;
  }
}

export const organizationsService = defineService('organizations', (caps) => new OrganizationsService(caps));
