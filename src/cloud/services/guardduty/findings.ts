// GuardDuty findings as the GuardDuty API reference shapes them (Finding, Resource, AccessKeyDetails,
// InstanceDetails, S3BucketDetail, Service, Action with AwsApiCallAction, NetworkConnectionAction,
// DnsRequestAction, Evidence) and as AWS's published sample findings fill them, with the default
// severity GuardDuty gives each type (GuardDuty User Guide, "Finding types": Low 2, Medium 5,
// High 8). The catalog says, per type, what kind of resource it concerns and how its sample looks;
// docs/guardduty.md says which types the lab cloud also produces from its own activity.
export type JsonObject = { [k: string]: unknown };

/** A finding as GetFindings returns it (plus the lab's marker `seclab:emulated`). */
export interface Finding extends JsonObject {
  schemaVersion: '2.0';
  accountId: string;
  region: string;
  partition: 'aws';
  id: string;
  arn: string;
  type: string;
  resource: JsonObject;
  service: Service;
  severity: number;
  createdAt: string;
  updatedAt: string;
  title: string;
  description: string;
}

export interface Service extends JsonObject {
  serviceName: 'guardduty';
  detectorId: string;
  action: JsonObject;
  resourceRole: 'ACTOR' | 'TARGET';
  /** ServiceAdditionalInfo: a JSON document as a string (the EventBridge event carries it parsed). */
  additionalInfo: { value: string; type: 'default' };
  eventFirstSeen: string;
  eventLastSeen: string;
  archived: boolean;
  count: number;
  featureName?: string;
  evidence?: JsonObject;
  userFeedback?: 'USEFUL' | 'NOT_USEFUL';
}

export const LOW = 2;
export const MEDIUM = 5;
export const HIGH = 8;

type Kind = 'iam' | 'ec2-in' | 'ec2-out' | 'ec2-dns' | 's3';

interface TypeInfo {
  severity: number;
  kind: Kind;
  /** Data source (Service.featureName). */
  feature: 'CloudTrail' | 'FlowLogs' | 'DnsLogs' | 'S3DataEvents';
  title: string;
  description: string;
  /** NETWORK_CONNECTION samples: the port on the instance side. */
  port?: number;
  /** Threat-list based types: the list's name in the sample's evidence. */
  threatList?: string;
}

/** The finding types the lab cloud knows (CreateSampleFindings makes any of them). */
export const TYPES: Record<string, TypeInfo> = {
  'Policy:IAMUser/RootCredentialUsage': { severity: LOW, kind: 'iam', feature: 'CloudTrail', title: 'API {api} was invoked using root credentials.', description: 'API {api} was invoked using root credentials from IP address {ip}.' },
  'Stealth:IAMUser/CloudTrailLoggingDisabled': { severity: LOW, kind: 'iam', feature: 'CloudTrail', title: 'AWS CloudTrail trail {trail} was disabled.', description: 'AWS CloudTrail trail {trail} was disabled by {user} calling {api}.' },
  'PenTest:IAMUser/KaliLinux': { severity: MEDIUM, kind: 'iam', feature: 'CloudTrail', title: 'API {api} was invoked from a Kali Linux computer.', description: 'API {api} was invoked from a Kali Linux computer at IP address {ip} with credentials of {user}.' },
  'PenTest:IAMUser/ParrotLinux': { severity: MEDIUM, kind: 'iam', feature: 'CloudTrail', title: 'API {api} was invoked from a Parrot Security Linux computer.', description: 'API {api} was invoked from a Parrot Security Linux computer at IP address {ip} with credentials of {user}.' },
  'PenTest:IAMUser/PentooLinux': { severity: MEDIUM, kind: 'iam', feature: 'CloudTrail', title: 'API {api} was invoked from a Pentoo Linux computer.', description: 'API {api} was invoked from a Pentoo Linux computer at IP address {ip} with credentials of {user}.' },
  'UnauthorizedAccess:IAMUser/MaliciousIPCaller.Custom': { severity: MEDIUM, kind: 'iam', feature: 'CloudTrail', threatList: 'GeneratedFindingThreatListName', title: 'API {api} was invoked from an IP address on a custom threat list.', description: 'API {api} was invoked from IP address {ip}, which is on the custom threat list {list}.' },
  'Recon:IAMUser/MaliciousIPCaller.Custom': { severity: MEDIUM, kind: 'iam', feature: 'CloudTrail', threatList: 'GeneratedFindingThreatListName', title: 'Reconnaissance API {api} was invoked from an IP address on a custom threat list.', description: 'APIs commonly used in reconnaissance attacks, was invoked from an IP address on the custom threat list. Unauthorized actors perform such activity to gather information and discover resources like databases, S3 buckets etc., in order to further tailor the attack.' },
  'UnauthorizedAccess:IAMUser/MaliciousIPCaller': { severity: MEDIUM, kind: 'iam', feature: 'CloudTrail', threatList: 'ProofPoint', title: 'API {api} was invoked from a known malicious IP address.', description: 'API {api} was invoked from IP address {ip}, which is on a threat list.' },
  'Recon:IAMUser/MaliciousIPCaller': { severity: MEDIUM, kind: 'iam', feature: 'CloudTrail', threatList: 'ProofPoint', title: 'Reconnaissance API {api} was invoked from a known malicious IP address.', description: 'API {api}, commonly used for reconnaissance, was invoked from IP address {ip}, which is on a threat list.' },
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS': { severity: HIGH, kind: 'iam', feature: 'CloudTrail', title: 'Credentials for instance role {user} used from external IP address.', description: 'Credentials created exclusively for an EC2 instance using instance role {user} have been used from external IP address {ip}.' },
  'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS': { severity: HIGH, kind: 'iam', feature: 'CloudTrail', title: 'Credentials for instance role {user} used from another AWS account.', description: 'Credentials created exclusively for an EC2 instance using instance role {user} have been used from an EC2 instance of another AWS account at IP address {ip}.' },
  'Discovery:S3/AnomalousBehavior': { severity: LOW, kind: 's3', feature: 'S3DataEvents', title: 'Unusual S3 API invocation by {user}.', description: 'API {api} was invoked by {user} in a way that is unusual for this principal; such activity is commonly seen before data exfiltration.' },
  'Exfiltration:S3/AnomalousBehavior': { severity: HIGH, kind: 's3', feature: 'S3DataEvents', title: 'Unusual volume of S3 object reads by {user}.', description: 'API {api} was invoked by {user} in a way that is unusual for this principal (a large number of object reads); it may be data exfiltration.' },
  'Recon:EC2/Portscan': { severity: MEDIUM, kind: 'ec2-out', feature: 'FlowLogs', port: 33_000, title: 'Unusual outbound port scan from EC2 instance {instance}.', description: 'EC2 instance {instance} is performing outbound port scans against remote host {ip}.' },
  'UnauthorizedAccess:EC2/SSHBruteForce': { severity: LOW, kind: 'ec2-in', feature: 'FlowLogs', port: 22, title: '{ip} is performing SSH brute force attacks against {instance}. ', description: '{ip} is performing SSH brute force attacks against {instance}. Brute force attacks are used to gain unauthorized access to your instance by guessing the SSH password.' },
  'Backdoor:EC2/C&CActivity.B': { severity: HIGH, kind: 'ec2-out', feature: 'FlowLogs', port: 443, threatList: 'GeneratedFindingThreatListName', title: 'Command and Control server IP address queried by EC2 instance {instance}.', description: 'EC2 instance {instance} is communicating with IP address {ip}, a known command and control server on a threat list.' },
  'CryptoCurrency:EC2/BitcoinTool.B': { severity: HIGH, kind: 'ec2-out', feature: 'FlowLogs', port: 8333, title: 'Bitcoin-related IP address contacted by EC2 instance {instance}.', description: 'EC2 instance {instance} is communicating with IP address {ip}, which is associated with cryptocurrency-related activity.' },
  'Trojan:EC2/DNSDataExfiltration': { severity: HIGH, kind: 'ec2-dns', feature: 'DnsLogs', title: 'Data exfiltration through DNS queries from EC2 instance {instance}.', description: 'EC2 instance {instance} is performing DNS queries that may be used to exfiltrate data.' },
  'Recon:EC2/PortProbeUnprotectedPort': { severity: LOW, kind: 'ec2-in', feature: 'FlowLogs', port: 443, title: 'Unprotected port on EC2 instance {instance} is being probed.', description: 'EC2 instance {instance} has an unprotected port {port} which is being probed by {ip}.' },
  'Behavior:EC2/TrafficVolumeUnusual': { severity: MEDIUM, kind: 'ec2-out', feature: 'FlowLogs', port: 443, title: 'Unusual traffic volume from EC2 instance {instance} to remote host {ip}.', description: 'EC2 instance {instance} is generating unusually large amounts of network traffic to remote host {ip}, compared with the baseline GuardDuty learned for it.' },
  'Behavior:EC2/NetworkPortUnusual': { severity: MEDIUM, kind: 'ec2-out', feature: 'FlowLogs', port: 6667, title: 'Unusual outbound communication on port {port} from EC2 instance {instance}.', description: 'EC2 instance {instance} is communicating with remote host {ip} on an unusual server port {port}, compared with the baseline GuardDuty learned for it.' },
  'Backdoor:EC2/DenialOfService.Tcp': { severity: HIGH, kind: 'ec2-out', feature: 'FlowLogs', port: 80, title: 'Outbound TCP DoS attack from EC2 instance {instance}.', description: 'EC2 instance {instance} is behaving in a manner indicating it is being used to perform a Denial of Service (DoS) attack using the TCP protocol against {ip}.' },
  'Backdoor:EC2/C&CActivity.B!DNS': { severity: HIGH, kind: 'ec2-dns', feature: 'DnsLogs', title: 'Command and Control server domain name queried by EC2 instance {instance}.', description: 'EC2 instance {instance} is querying {domain}, a domain name associated with a known command and control server.' },
  'CryptoCurrency:EC2/BitcoinTool.B!DNS': { severity: HIGH, kind: 'ec2-dns', feature: 'DnsLogs', title: 'Bitcoin-related domain name queried by EC2 instance {instance}.', description: 'EC2 instance {instance} is querying {domain}, a domain name associated with cryptocurrency-related activity.' },
  'Trojan:EC2/DGADomainRequest.B': { severity: HIGH, kind: 'ec2-dns', feature: 'DnsLogs', title: 'Algorithmically generated domain name queried by EC2 instance {instance}.', description: 'EC2 instance {instance} is querying algorithmically generated domains such as {domain}, as malware that contacts its command and control servers this way does.' },
  'UnauthorizedAccess:EC2/MaliciousIPCaller.Custom': { severity: MEDIUM, kind: 'ec2-out', feature: 'FlowLogs', port: 443, threatList: 'GeneratedFindingThreatListName', title: 'EC2 instance {instance} is communicating with an IP address on a custom threat list.', description: 'EC2 instance {instance} is communicating with IP address {ip}, which is on the custom threat list {list}.' },
};

export function render(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? k);
}

export interface Actor {
  /** AccessKeyDetails of the caller. */
  accessKeyId: string;
  principalId: string;
  userName: string;
  userType: 'Root' | 'IAMUser' | 'AssumedRole' | 'FederatedUser';
}

/** RemoteIpDetails. The lab cloud has no geolocation database: organisation and place are unknown. */
export function remoteIp(ip: string, sample: boolean): JsonObject {
  return sample
    ? {
      ipAddressV4: ip, organization: { asn: '-1', asnOrg: 'GeneratedFindingASNOrg', isp: 'GeneratedFindingISP', org: 'GeneratedFindingORG' },
      country: { countryName: 'GeneratedFindingCountryName' }, city: { cityName: 'GeneratedFindingCityName' }, geoLocation: { lat: 0, lon: 0 },
    }
    : { ipAddressV4: ip, organization: { asn: '-1', asnOrg: 'UNKNOWN', isp: 'UNKNOWN', org: 'UNKNOWN' }, country: { countryName: 'UNKNOWN' }, city: { cityName: 'UNKNOWN' }, geoLocation: { lat: 0, lon: 0 } };
}

const SAMPLE_ACTOR: Actor = { accessKeyId: 'GeneratedFindingAccessKeyId', principalId: 'GeneratedFindingPrincipalId', userName: 'GeneratedFindingUserName', userType: 'IAMUser' };
const SAMPLE_IP = '198.51.100.0';

function sampleInstance(account: string): JsonObject {
  return {
    instanceId: 'i-99999999', instanceType: 'm3.xlarge', launchTime: '2016-08-02T02:05:06.000Z', platform: null,
    productCodes: [{ productCodeId: 'GeneratedFindingProductCodeId', productCodeType: 'GeneratedFindingProductCodeType' }],
    iamInstanceProfile: { arn: `arn:aws:iam::${account}:example/instance/profile`, id: 'GeneratedFindingInstanceProfileId' },
    networkInterfaces: [{
      ipv6Addresses: [], networkInterfaceId: 'eni-bfcffe88', privateDnsName: 'GeneratedFindingPrivateDnsName', privateIpAddress: '10.0.0.1',
      privateIpAddresses: [{ privateDnsName: 'GeneratedFindingPrivateName', privateIpAddress: '10.0.0.1' }],
      publicDnsName: 'GeneratedFindingPublicDNSName', publicIp: '198.51.100.0',
      securityGroups: [{ groupId: 'GeneratedFindingSecurityId', groupName: 'GeneratedFindingSecurityGroupName' }],
      subnetId: 'GeneratedFindingSubnetId', vpcId: 'GeneratedFindingVPCId',
    }],
    outpostArn: 'arn:aws:outposts:us-west-2:123456789000:outpost/op-0fbc006e9abbc73c3',
    tags: [{ key: 'GeneratedFindingInstaceTag1', value: 'GeneratedFindingInstaceValue1' }],
    instanceState: 'running', availabilityZone: 'GeneratedFindingInstaceAvailabilityZone', imageId: 'ami-99999999', imageDescription: 'GeneratedFindingInstaceImageDescription',
  };
}

export interface Draft {
  type: string;
  resource: JsonObject;
  action: JsonObject;
  resourceRole: 'ACTOR' | 'TARGET';
  additionalInfo: JsonObject;
  evidence?: JsonObject;
  vars: Record<string, string>;
  /** What makes two occurrences the same finding (its count goes up instead of a new finding). */
  key: string;
}

/** The resource of an IAM finding: the access key that made the call. */
export function accessKeyResource(a: Actor): JsonObject {
  return { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId: a.accessKeyId, principalId: a.principalId, userName: a.userName, userType: a.userType } };
}

/** A sample finding of a type, as CreateSampleFindings makes it (placeholders as AWS's samples have them). */
export function sampleDraft(type: string, account: string): Draft {
  const t = TYPES[type]!;
  const info: JsonObject = { sample: true };
  // As AWS's published samples (test/services/guardduty-samples.test.ts): a named threat; the list in
  // additionalInfo for EC2 types only (IAM samples name it in evidence alone).
  const evidence = t.threatList ? { threatIntelligenceDetails: [{ threatListName: t.threatList, threatNames: ['GeneratedFindingThreatName'] }] } : undefined;
  if (t.threatList && t.kind !== 'iam') info['threatListName'] = t.threatList;
  const vars = { api: 'GeneratedFindingAPIName', ip: SAMPLE_IP, user: SAMPLE_ACTOR.userName, instance: 'i-99999999', trail: 'GeneratedFindingTrailName', list: t.threatList ?? '' };
  const base = { type, additionalInfo: info, ...(evidence ? { evidence } : {}), vars, key: `sample|${type}` };
  switch (t.kind) {
    case 'iam':
    case 's3': {
      const actor = type.includes('InstanceCredentialExfiltration') ? { ...SAMPLE_ACTOR, userType: 'AssumedRole' as const } : type === 'Policy:IAMUser/RootCredentialUsage' ? { ...SAMPLE_ACTOR, userType: 'Root' as const } : SAMPLE_ACTOR;
      const resource = accessKeyResource(actor);
      // AWS's IAM and S3 samples carry the sample instance next to the access key.
      resource['instanceDetails'] = sampleInstance(account);
      if (t.kind === 'iam') {
        info['apiCalls'] = [
          { name: 'GeneratedFindingAPIName1', count: 2, firstSeen: 1513721039, lastSeen: 1513721040 },
          { name: 'GeneratedFindingAPIName2', count: 1, firstSeen: 1513721040, lastSeen: 1513721040 },
        ];
      }
      if (t.kind === 's3') {
        resource['resourceType'] = 'S3Bucket';
        resource['s3BucketDetails'] = [{
          arn: 'arn:aws:s3:::bucketName', name: 'bucketName', type: 'Destination', createdAt: 1513612691.551, owner: { id: 'CanonicalId of Owner' },
          defaultServerSideEncryption: { encryptionType: 'SSEAlgorithm', kmsMasterKeyArn: 'arn:aws:kms:region:123456789012:key/key-id' },
          publicAccess: {
            effectivePermission: 'NOT_PUBLIC',
            permissionConfiguration: {
              bucketLevelPermissions: {
                accessControlList: { allowsPublicReadAccess: false, allowsPublicWriteAccess: false },
                bucketPolicy: { allowsPublicReadAccess: false, allowsPublicWriteAccess: false },
                blockPublicAccess: { ignorePublicAcls: false, restrictPublicBuckets: false, blockPublicAcls: false, blockPublicPolicy: false },
              },
              accountLevelPermissions: { blockPublicAccess: { ignorePublicAcls: false, restrictPublicBuckets: false, blockPublicAcls: false, blockPublicPolicy: false } },
            },
          },
          tags: [{ key: 'foo', value: 'bar' }],
        }];
      }
      const api = t.kind === 's3' ? (type.startsWith('Exfiltration') ? 'GetObject' : 'ListObjects') : 'GeneratedFindingAPIName';
      return {
        ...base, resource, resourceRole: 'TARGET',
        action: { actionType: 'AWS_API_CALL', awsApiCallAction: { api, serviceName: t.kind === 's3' ? 's3.amazonaws.com' : 'GeneratedFindingAPIServiceName', callerType: 'Remote IP', remoteIpDetails: remoteIp(SAMPLE_IP, true), errorCode: 'AccessDenied', affectedResources: {} } },
      };
    }
    case 'ec2-dns':
      return {
        ...base, resource: { resourceType: 'Instance', instanceDetails: sampleInstance(account) }, resourceRole: 'ACTOR',
        action: { actionType: 'DNS_REQUEST', dnsRequestAction: { domain: 'GeneratedFindingDomainName', protocol: 'UDP', blocked: false } },
      };
    default: {
      const inbound = t.kind === 'ec2-in';
      // Port probes are PORT_PROBE actions on AWS (portProbeDetails), as flows.ts makes them.
      if (type === 'Recon:EC2/PortProbeUnprotectedPort') {
        return {
          ...base, resource: { resourceType: 'Instance', instanceDetails: sampleInstance(account) }, resourceRole: 'TARGET',
          action: {
            actionType: 'PORT_PROBE',
            portProbeAction: {
              blocked: false,
              portProbeDetails: [{ localPortDetails: { port: t.port, portName: 'HTTPS' }, localIpDetails: { ipAddressV4: '10.0.0.23' }, remoteIpDetails: remoteIp(SAMPLE_IP, true) }],
            },
          },
        };
      }
      return {
        ...base, resource: { resourceType: 'Instance', instanceDetails: sampleInstance(account) }, resourceRole: inbound ? 'TARGET' : 'ACTOR',
        action: {
          actionType: 'NETWORK_CONNECTION',
          networkConnectionAction: {
            connectionDirection: inbound ? 'INBOUND' : 'OUTBOUND', protocol: 'TCP', blocked: false,
            remoteIpDetails: remoteIp(SAMPLE_IP, true), remotePortDetails: { port: inbound ? 32794 : t.port, portName: 'Unknown' },
            localPortDetails: { port: inbound ? t.port : 39677, portName: inbound && t.port === 22 ? 'SSH' : 'Unknown' }, localIpDetails: { ipAddressV4: '10.0.0.23' },
          },
        },
      };
    }
  }
}

/** The finding for the EventBridge event's detail: as GetFindings, with additionalInfo parsed (as GuardDuty's events carry it). */
export function eventDetail(f: Finding): JsonObject {
  let info: unknown = {};
  try {
    info = JSON.parse(f.service.additionalInfo.value);
  } catch {
    info = {};
  }
  return { ...f, service: { ...f.service, additionalInfo: info } };
}
