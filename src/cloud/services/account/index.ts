// AWS Account Management (`account`, REST-JSON) in the lab cloud: the account's contact information
// and its alternate contacts (billing, operations, security), which CIS checks read (Prowler's
// account_maintain_current_contact_details, account_security_contact_information_is_registered).
// moto 5.2 has the alternate contacts only (and lets DeleteAlternateContact of an unset type
// succeed), not the contact information: the lab cloud answers all five operations itself, with
// state per lab-cloud account, dropped with the account. Errors as the Account Management API
// reference lists them: ResourceNotFoundException (404) for what was never set, ValidationException
// (400) for a bad AlternateContactType or a missing/over-long field, AccessDeniedException (403) for
// another account's AccountId unless the caller is in the management account of that account's
// organization and the organization has enabled trusted access for account.amazonaws.com
// (Account Management reference, "AccountId"; authorized then on the member's
// arn:aws:account::<management>:account/<org>/<member>).
import { ApiError } from '../../gateway/api-error.ts';
import { jsonResult, type CallContext, type Reply, type ServiceExtension } from '../../gateway/extension.ts';
import { defineService, type AuthorizationPart, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import { orgCall } from '../organizations/directory.ts';

export const ALTERNATE_CONTACT_TYPES = ['BILLING', 'OPERATIONS', 'SECURITY'] as const;

export interface AlternateContact {
  AlternateContactType: string;
  EmailAddress: string;
  Name: string;
  PhoneNumber: string;
  Title: string;
}

/** ContactInformation members: name, whether required, longest length (Account Management API reference). */
const CONTACT_FIELDS: Array<[string, boolean, number]> = [
  ['FullName', true, 50], ['AddressLine1', true, 60], ['AddressLine2', false, 60], ['AddressLine3', false, 60],
  ['City', true, 50], ['StateOrRegion', false, 50], ['DistrictOrCounty', false, 50], ['PostalCode', true, 20],
  ['CountryCode', true, 2], ['PhoneNumber', true, 20], ['CompanyName', false, 50], ['WebsiteUrl', false, 256],
];

/** AlternateContact members: name, longest length. */
const ALTERNATE_FIELDS: Array<[string, number]> = [['EmailAddress', 254], ['Name', 64], ['PhoneNumber', 25], ['Title', 50]];

/** The primary contact a new lab account starts with (AWS accounts always have one from sign-up). */
const SIGN_UP_CONTACT: Record<string, string> = {
  FullName: 'Lab Student', CompanyName: 'seclab course', AddressLine1: '1 Example Street', City: 'Seattle',
  StateOrRegion: 'WA', PostalCode: '98101', CountryCode: 'US', PhoneNumber: '+12065550100',
};

interface AccountState {
  contact?: Record<string, string>;
  alternates: Map<string, AlternateContact>;
}

function validation(message: string): ApiError {
  return new ApiError(400, 'ValidationException', message);
}

/** AWS's wording of a field that fails validation. */
function invalidField(field: string, constraint: string, value: unknown): ApiError {
  const shown = typeof value === 'string' ? value : JSON.stringify(value ?? null);
  return validation(`1 validation error detected: Value '${shown}' at '${field}' failed to satisfy constraint: ${constraint}`);
}

export class AccountService implements ServiceRuntime {
  private readonly state = new Map<string, AccountState>();
  readonly extensions: ServiceExtension[];
  readonly authorization: AuthorizationPart;

  constructor(private readonly caps: Capabilities) {
    this.extensions = [{ service: 'account', serve: (ctx) => this.serve(ctx) }];
    this.authorization = {
      // A member account named by its management account is authorized as accountInOrganization.
      resolve: async (check, cred, call) => {
        const target = call.service === 'account' ? call.params['AccountId'] : undefined;
        if (typeof target !== 'string' || target === cred.account || !/^\d{12}$/.test(target)) return check;
        const org = await this.caps.service('organizations').membership(target).catch(() => undefined);
        if (!org || org.managementAccount !== cred.account) return check;
        return { ...check, resources: [`arn:aws:account::${cred.account}:account/${org.orgId}/${target}`] };
      },
    };
  }

  /** Whether the caller's account may act on `target` (the management account of its organization, with trusted access). */
  private async manages(caller: string, target: string): Promise<boolean> {
    const org = await this.caps.service('organizations').membership(target).catch(() => undefined);
    if (!org || org.managementAccount !== caller) return false;
    const access = await orgCall<{ EnabledServicePrincipals?: { ServicePrincipal?: string }[] }>(this.caps.target, caller, 'ListAWSServiceAccessForOrganization')
      .catch(() => ({ EnabledServicePrincipals: [] }));
    return (access.EnabledServicePrincipals ?? []).some((p) => p.ServicePrincipal === 'account.amazonaws.com');
  }

  private of(account: string): AccountState {
    let s = this.state.get(account);
    // Every AWS account has the primary contact given at sign-up; a lab account's is the course's.
    if (!s) this.state.set(account, (s = { alternates: new Map(), contact: { ...SIGN_UP_CONTACT } }));
    return s;
  }

  /** What an account has set (for graders and tests). */
  alternateContact(account: string, type: string): AlternateContact | undefined {
    return this.state.get(account)?.alternates.get(type);
  }

  contactInformation(account: string): Record<string, string> | undefined {
    return this.state.get(account)?.contact;
  }

  dropAccount(account: string): void {
    this.state.delete(account);
  }

  private async serve(ctx: CallContext): Promise<Reply | undefined> {
    const { call, cred, requestId } = ctx;
    const op = call.operation;
    if (!['GetContactInformation', 'PutContactInformation', 'GetAlternateContact', 'PutAlternateContact', 'DeleteAlternateContact'].includes(op)) return undefined;
    const p = call.params;
    const target = p['AccountId'];
    let account = cred.account;
    if (target !== undefined && target !== null) {
      if (typeof target !== 'string' || !/^\d{12}$/.test(target)) throw invalidField('accountId', 'Member must satisfy regular expression pattern: ^\\d{12}$', target);
      if (target !== cred.account) {
        if (!(await this.manages(cred.account, target))) {
          throw new ApiError(403, 'AccessDeniedException', `User: ${cred.arn} is not authorized to perform: account:${op} on resource: ${target} (only the management account of the account's organization, with trusted access for account.amazonaws.com enabled, may act on a member account)`);
        }
        account = target;
      }
    }
    const s = this.of(account);
    const empty: Reply = { status: 200, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, body: '' };
    switch (op) {
      case 'GetContactInformation':
        if (!s.contact) throw new ApiError(404, 'ResourceNotFoundException', 'No contact information found for this account.');
        return jsonResult({ ContactInformation: s.contact }, requestId, 'application/json');
      case 'PutContactInformation': {
        const info = p['ContactInformation'];
        if (!info || typeof info !== 'object' || Array.isArray(info)) throw invalidField('contactInformation', 'Member must not be null', info);
        const contact: Record<string, string> = {};
        for (const [name, required, max] of CONTACT_FIELDS) {
          const v = (info as Record<string, unknown>)[name];
          const field = `contactInformation.${name[0]!.toLowerCase()}${name.slice(1)}`;
          if (v === undefined || v === null) {
            if (required) throw invalidField(field, 'Member must not be null', v);
            continue;
          }
          if (typeof v !== 'string' || v.length < 1 || v.length > max) throw invalidField(field, `Member must have length between 1 and ${max}`, v);
          contact[name] = v;
        }
        s.contact = contact;
        return empty;
      }
      default: {
        const type = p['AlternateContactType'];
        if (typeof type !== 'string' || !(ALTERNATE_CONTACT_TYPES as readonly string[]).includes(type)) {
          throw invalidField('alternateContactType', `Member must satisfy enum value set: [${ALTERNATE_CONTACT_TYPES.join(', ')}]`, type);
        }
        if (op === 'GetAlternateContact' || op === 'DeleteAlternateContact') {
          const found = s.alternates.get(type);
          if (!found) throw new ApiError(404, 'ResourceNotFoundException', 'No contact of the inputted alternate contact type found.');
          if (op === 'GetAlternateContact') return jsonResult({ AlternateContact: found }, requestId, 'application/json');
          s.alternates.delete(type);
          return empty;
        }
        const contact: AlternateContact = { AlternateContactType: type, EmailAddress: '', Name: '', PhoneNumber: '', Title: '' };
        for (const [name, max] of ALTERNATE_FIELDS) {
          const v = p[name];
          const field = `${name[0]!.toLowerCase()}${name.slice(1)}`;
          if (v === undefined || v === null) throw invalidField(field, 'Member must not be null', v);
          if (typeof v !== 'string' || v.length < 1 || v.length > max) throw invalidField(field, `Member must have length between 1 and ${max}`, v);
          (contact as unknown as Record<string, string>)[name] = v;
        }
        if (!/^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$/.test(contact.EmailAddress)) {
          throw invalidField('emailAddress', 'Member must satisfy regular expression pattern: ^[\\s]*[\\w+=.#|!&-]+@[\\w.-]+\\.[\\w]+[\\s]*$', contact.EmailAddress);
        }
        s.alternates.set(type, contact);
        return empty;
      }
    }
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    account: AccountService;
  }
}

export const accountService = defineService('account', (caps) => new AccountService(caps));
