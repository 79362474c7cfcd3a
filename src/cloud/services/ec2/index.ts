// EC2 in the lab cloud: the VPC data plane (dataplane/: traffic judged by security groups and network
// ACLs, written as flow logs on the lab clock), what moto gets wrong about EC2 (conformance.ts), and
// the account-level settings moto lacks (account-settings.ts).
import { defineService, type AuthorizationPart, type Capabilities, type ServiceRuntime } from '../../gateway/service.ts';
import type { ServiceExtension } from '../../gateway/extension.ts';
import type { Upstream } from '../../gateway/upstream.ts';
import { DataPlane, MotoTopologySource } from './dataplane/index.ts';
import { ec2Extension } from './extension.ts';
import { Ec2AccountSettings } from './account-settings.ts';
import { InstanceMetadataService } from './imds.ts';
import { Ec2Hosts } from './hosts.ts';

export class Ec2Service implements ServiceRuntime {
  /** The VPC data plane: traffic judged by security groups and network ACLs, written as flow logs. */
  readonly dataplane: DataPlane;
  readonly target: Upstream;
  readonly extensions: ServiceExtension[];
  /** Block public access for AMIs and snapshots, instance metadata defaults, Client VPN (moto has none). */
  readonly settings = new Ec2AccountSettings();
  /** Each instance's metadata service (169.254.169.254 on the instance): see imds.ts and docs/imds.md. */
  readonly imds: InstanceMetadataService;
  /** Giving an instance a role needs iam:PassRole on it (imds.ts, resolve). */
  readonly authorization: AuthorizationPart;
  /** Each instance's root filesystem, configured by its user data (hosts.ts, docs/host-userdata.md): `rootOf`. */
  readonly hosts: Ec2Hosts;
  readonly control: ServiceRuntime['control'];

  constructor(caps: Capabilities) {
    this.target = caps.target;
    this.dataplane = new DataPlane({
      topology: new MotoTopologySource(caps.target.url, { accountSelection: caps.target.accountSelection, headers: caps.target.secretHeaders }),
      // Through the lab cloud's sinks, so metric filters and the SIEM see flow-log records.
      sinks: {
        putLogEvents: (account, region, group, stream, events) => caps.sinks.putLogEvents(account, region, group, stream, events),
        putObject: (account, bucket, key, body) => caps.sinks.putObject(account, bucket, key, body),
      },
    });
    this.imds = new InstanceMetadataService(caps);
    this.authorization = { resolve: (requirement, cred, call) => this.imds.resolve(requirement, cred, call) };
    this.hosts = new Ec2Hosts(caps);
    this.control = { ...this.hosts.control };
    this.extensions = [ec2Extension(this), this.settings.extension(), this.imds.extension(), this.hosts.extension()];
  }

  dropAccount(account: string): void {
    this.settings.dropAccount(account);
    this.imds.dropAccount(account);
    this.hosts.dropAccount(account);
  }

  /** Flow-log capture windows closed by now are delivered. */
  async deliver(nowMs: number): Promise<void> {
    await this.dataplane.flush(nowMs);
  }

  close(): void {
    this.dataplane.close();
    this.imds.close();
    this.hosts.close();
  }
}

declare module '../../gateway/service.ts' {
  interface LabServices {
    ec2: Ec2Service;
  }
}

export const ec2Service = defineService('ec2', (caps) => new Ec2Service(caps));
