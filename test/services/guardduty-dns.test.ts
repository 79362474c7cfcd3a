// GuardDuty findings from DNS logs (src/cloud/services/guardduty/dns.ts), through the real gateway and
// moto: instances launched with the EC2 API, a detector and a threat list made with the GuardDuty SDK,
// the instances' lookups given to the lab cloud's VPC resolver (route53resolver.lookups), findings read
// back with ListFindings/GetFindings. GuardDuty reads DNS logs whether or not query logging is
// configured (no configuration here). A day of ordinary lookups (seeded, recorded seed) must produce no
// finding; the number of false findings is printed.
import { describe, expect, it } from 'vitest';
import { EC2Client, CreateSubnetCommand, CreateVpcCommand, DescribeImagesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  GuardDutyClient, CreateDetectorCommand, CreateThreatIntelSetCommand, GetFindingsCommand, ListFindingsCommand, UpdateDetectorCommand, type Finding,
} from '@aws-sdk/client-guardduty';
import { useLabCloud } from '../helpers/cloud.ts';
import { Random } from '../../src/engine/random.ts';
import type { DnsQuery } from '../../src/cloud/services/route53resolver/index.ts';
import { beaconLookups, dgaLookups, ordinaryLookups, tunnelLookups } from '../../src/cloud/services/route53resolver/traffic.ts';
import {
  DGA_MIN_DOMAINS, EXFIL_MIN_NAMES, EXFIL_WINDOW_MS, looksEncoded, looksGenerated, registeredDomain,
} from '../../src/cloud/services/guardduty/dns.ts';

const { cloud } = useLabCloud();
const SEED = 'guardduty-dns-2026-12-07';
const HOUR = 3600_000;
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const CONSONANTS = 'bcdfghjklmnpqrstvwxz';

/** An account with a VPC and three running instances (web-1, app-1, app-2), optionally a detector. */
async function lab(opts: { detector?: boolean } = { detector: true }) {
  const c = cloud();
  const root = c.createAccount();
  const creds = { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey };
  const ec2 = c.client(EC2Client, { credentials: creds });
  const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.0.2.0/24' }))).Subnet!.SubnetId!;
  const ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images![0]!.ImageId!;
  const out = (await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 3, MaxCount: 3, InstanceType: 't3.micro', SubnetId: subnet }))).Instances!;
  const [web, app1, app2] = out.map((i) => ({ id: i.InstanceId!, ip: i.PrivateIpAddress! }));
  const gd = c.client(GuardDutyClient, { credentials: creds });
  const detectorId = opts.detector ? (await gd.send(new CreateDetectorCommand({ Enable: true, FindingPublishingFrequency: 'FIFTEEN_MINUTES' }))).DetectorId! : undefined;
  const resolver = c.gateway.service('route53resolver');
  const lookups = async (qs: DnsQuery[]) => {
    const r = await resolver.lookups(root.accountId, c.region, qs);
    await c.gateway.service('guardduty').settle();
    return r;
  };
  const findings = async (type?: string): Promise<Finding[]> => {
    const ids = (await gd.send(new ListFindingsCommand({ DetectorId: detectorId!, FindingCriteria: { Criterion: type ? { type: { Equals: [type] } } : {} } }))).FindingIds ?? [];
    const all = ids.length ? (await gd.send(new GetFindingsCommand({ DetectorId: detectorId!, FindingIds: ids }))).Findings ?? [] : [];
    // DNS-log findings only: the test's calls with the root user make a CloudTrail finding too
    return all.filter((f) => f.Service?.FeatureName === 'DnsLogs');
  };
  const dnsFindings = () => c.gateway.service('guardduty').findings(root.accountId).filter((f) => f.service.featureName === 'DnsLogs');
  return { c, id: root.accountId, dnsFindings, creds, vpc, subnet, web: web!, app1: app1!, app2: app2!, gd, detectorId, lookups, findings, s3: c.client(S3Client, { credentials: creds }) };
}

/** Names as a DNS tunnel encodes data: base32 chunks in the labels under one domain (seeded). */
const tunnel = (rng: Random, n: number, domain: string): string[] => tunnelLookups(rng, '', domain, { start: 0, count: n }).map((q) => q.qname);

describe('GuardDuty DNS findings', () => {
  it('Trojan:EC2/DNSDataExfiltration: many encoded names under one domain from one instance; repeats raise the count', async () => {
    const a = await lab();
    const rng = new Random(`${SEED}|exfil`);
    const t0 = a.c.gateway.clock.nowMs();
    const names = tunnel(rng, 40, 'x1.exfil-drop.net');
    expect(names.every(looksEncoded)).toBe(true);
    // just below the rule: no finding
    await a.lookups(names.slice(0, EXFIL_MIN_NAMES - 1).map((qname, i) => ({ srcaddr: a.app2.ip, qname, qtype: 'TXT', at: t0 + i * 1000 })));
    expect(await a.findings('Trojan:EC2/DNSDataExfiltration')).toHaveLength(0);
    await a.lookups(names.slice(EXFIL_MIN_NAMES - 1).map((qname, i) => ({ srcaddr: a.app2.ip, qname, qtype: 'TXT', at: t0 + (EXFIL_MIN_NAMES - 1 + i) * 1000 })));
    const [f] = await a.findings('Trojan:EC2/DNSDataExfiltration');
    expect(f).toBeDefined();
    expect(f).toMatchObject({
      Severity: 8, Resource: { ResourceType: 'Instance', InstanceDetails: { InstanceId: a.app2.id, InstanceType: 't3.micro' } },
      Service: { ResourceRole: 'ACTOR', Count: 1, FeatureName: 'DnsLogs', Action: { ActionType: 'DNS_REQUEST', DnsRequestAction: { Protocol: 'UDP', Blocked: false, DomainWithSuffix: 'exfil-drop.net' } } },
    });
    expect(f!.Resource!.InstanceDetails!.NetworkInterfaces![0]!.PrivateIpAddress).toBe(a.app2.ip);
    expect(f!.Service!.Action!.DnsRequestAction!.Domain).toMatch(/\.x1\.exfil-drop\.net$/);
    expect(JSON.parse(f!.Service!.AdditionalInfo!.Value!)).toMatchObject({ domain: 'exfil-drop.net' });
    // another burst a window later (not every base32 chunk mixes in enough digits: more names): the same finding, count 2
    const later = t0 + EXFIL_WINDOW_MS + 60_000;
    await a.lookups(tunnel(rng, 2 * EXFIL_MIN_NAMES, 'x1.exfil-drop.net').map((qname, i) => ({ srcaddr: a.app2.ip, qname, at: later + i * 500 })));
    const again = await a.findings('Trojan:EC2/DNSDataExfiltration');
    expect(again).toHaveLength(1);
    expect(again[0]!.Service!.Count).toBe(2);
    // the other instances did nothing: no finding names them
    expect((await a.findings()).map((x) => x.Resource?.InstanceDetails?.InstanceId)).toEqual([a.app2.id]);
  });

  it('does not report one long name asked again and again, nor encoded names spread over many domains', async () => {
    const a = await lab();
    const rng = new Random(`${SEED}|spread`);
    const t0 = a.c.gateway.clock.nowMs();
    const [one] = tunnel(rng, 1, 'x1.exfil-drop.net');
    await a.lookups(Array.from({ length: 60 }, (_, i) => ({ srcaddr: a.app1.ip, qname: one!, at: t0 + i * 1000 })));
    // 30 distinct encoded names, each under its own registered domain
    await a.lookups(Array.from({ length: 30 }, (_, i) => ({ srcaddr: a.app1.ip, qname: tunnel(rng, 1, `cdn${i}.example.com`)[0]!.replace(/\.cdn\d+\.example\.com$/, `.edge${i}.net`), at: t0 + i * 1000 })));
    expect(await a.findings()).toHaveLength(0);
  });

  it('Backdoor:EC2/C&CActivity.B!DNS and CryptoCurrency:EC2/BitcoinTool.B!DNS for domains GuardDuty\'s intelligence knows', async () => {
    const a = await lab();
    a.c.gateway.service('guardduty').intel.add([
      { kind: 'command-and-control', value: 'update-check.evil-c2.net' },
      { kind: 'cryptocurrency', value: 'pool.minexmr-example.com', list: 'Crypto feed' },
    ]);
    const t0 = a.c.gateway.clock.nowMs();
    await a.lookups([
      { srcaddr: a.app1.ip, qname: 'beacon.update-check.evil-c2.net', at: t0 },
      { srcaddr: a.app1.ip, qname: 'beacon.update-check.evil-c2.net.', at: t0 + 30_000 },
      { srcaddr: a.web.ip, qname: 'pool.minexmr-example.com', at: t0 + 40_000 },
      // the parent domain alone is not known
      { srcaddr: a.web.ip, qname: 'www.evil-c2.net', at: t0 + 50_000 },
    ]);
    // a beacon asking the name every 30 s for 10 minutes raises the same finding's count
    const beacon = beaconLookups(new Random(`${SEED}|beacon`), a.app1.ip, 'beacon.update-check.evil-c2.net', { start: t0 + 60_000, durationMs: 10 * 60_000, periodMs: 30_000, jitterMs: 2000 });
    expect(beacon.length).toBeGreaterThanOrEqual(18);
    await a.lookups(beacon);
    const [cc] = await a.findings('Backdoor:EC2/C&CActivity.B!DNS');
    expect(cc!.Service!.Count).toBe(2 + beacon.length);
    expect(cc).toMatchObject({
      Resource: { InstanceDetails: { InstanceId: a.app1.id } },
      Service: { Action: { ActionType: 'DNS_REQUEST', DnsRequestAction: { Domain: 'beacon.update-check.evil-c2.net', Protocol: 'UDP', Blocked: false } }, Evidence: { ThreatIntelligenceDetails: [{ ThreatListName: 'ProofPoint' }] } },
    });
    const [btc] = await a.findings('CryptoCurrency:EC2/BitcoinTool.B!DNS');
    expect(btc).toMatchObject({ Resource: { InstanceDetails: { InstanceId: a.web.id } }, Service: { Count: 1, Evidence: { ThreatIntelligenceDetails: [{ ThreatListName: 'Crypto feed' }] } } });
    expect(await a.findings()).toHaveLength(2);
  });

  it('a domain on the customer\'s active threat list: C&CActivity.B!DNS with the list in evidence', async () => {
    const a = await lab();
    const bucket = `intel-${a.id}`;
    await a.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await a.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'intel/northwind-threats.txt', Body: '# Northwind threat feed\n203.0.113.66\ndrop.badactor-example.net\n' }));
    await a.gd.send(new CreateThreatIntelSetCommand({ DetectorId: a.detectorId!, Name: 'northwind-threats', Format: 'TXT', Location: `s3://${bucket}/intel/northwind-threats.txt`, Activate: true }));
    const t0 = a.c.gateway.clock.nowMs();
    await a.lookups([{ srcaddr: a.app1.ip, qname: 'files.drop.badactor-example.net', at: t0 }, { srcaddr: a.app1.ip, qname: 'badactor-example.net', at: t0 + 1 }]);
    const all = await a.findings();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ Type: 'Backdoor:EC2/C&CActivity.B!DNS', Service: { Evidence: { ThreatIntelligenceDetails: [{ ThreatListName: 'northwind-threats' }] } } });
    expect(JSON.parse(all[0]!.Service!.AdditionalInfo!.Value!)).toMatchObject({ threatListName: 'northwind-threats', domain: 'drop.badactor-example.net' });
  });

  it('Trojan:EC2/DGADomainRequest.B: many generated domains that do not exist', async () => {
    const a = await lab();
    const rng = new Random(`${SEED}|dga`);
    const t0 = a.c.gateway.clock.nowMs();
    const walk = dgaLookups(rng, a.app1.ip, { start: t0, count: DGA_MIN_DOMAINS + 2, found: { answer: '198.51.100.200' } });
    expect(walk.slice(0, -1).every((q) => q.rcode === 'NXDOMAIN' && looksGenerated(registeredDomain(q.qname)!))).toBe(true);
    // one fewer generated NXDOMAIN than the rule needs: nothing yet
    await a.lookups(walk.slice(0, DGA_MIN_DOMAINS - 1));
    expect(await a.findings('Trojan:EC2/DGADomainRequest.B')).toHaveLength(0);
    await a.lookups(walk.slice(DGA_MIN_DOMAINS - 1));
    const [f] = await a.findings('Trojan:EC2/DGADomainRequest.B');
    expect(f).toMatchObject({ Resource: { InstanceDetails: { InstanceId: a.app1.id } }, Service: { Count: 1, Action: { ActionType: 'DNS_REQUEST' } } });
  });

  it('nothing without an enabled detector', async () => {
    const a = await lab({ detector: false });
    a.c.gateway.service('guardduty').intel.add([{ kind: 'command-and-control', value: 'c2.nodetector-example.net' }]);
    const t0 = a.c.gateway.clock.nowMs();
    await a.lookups([{ srcaddr: a.app1.ip, qname: 'c2.nodetector-example.net', at: t0 }, ...tunnel(new Random(`${SEED}|none`), 30, 'x.exfil-drop.net').map((qname, i) => ({ srcaddr: a.app1.ip, qname, at: t0 + i }))]);
    expect(a.dnsFindings()).toHaveLength(0);
    // a disabled detector neither
    const b = await lab();
    await b.gd.send(new UpdateDetectorCommand({ DetectorId: b.detectorId!, Enable: false }));
    await b.lookups([{ srcaddr: b.app1.ip, qname: 'c2.nodetector-example.net', at: t0 }]);
    expect(b.dnsFindings()).toHaveLength(0);
  });

  it('a day of ordinary lookups (AWS endpoints, the company\'s buckets and domains, update mirrors) produces no finding', async () => {
    const a = await lab();
    const rng = new Random(`${SEED}|quiet-day`);
    const start = a.c.gateway.clock.nowMs();
    const day = ordinaryLookups(rng, [a.web, a.app1, a.app2], { account: a.id, region: a.c.region, start });
    // send it hour by hour as the lab clock moves
    for (let h = 0; h < 24; h++) {
      const hour = day.filter((q) => q.at >= start + h * HOUR && q.at < start + (h + 1) * HOUR);
      await a.lookups(hour);
      await a.c.gateway.clock.advance(HOUR);
    }
    const encoded = new Set(day.filter((q) => looksEncoded(q.qname)).map((q) => q.qname)).size;
    // the antivirus hashes look encoded one by one; they are too few per window to be a tunnel
    expect(encoded).toBeGreaterThan(50);
    const falseFindings = (await a.findings()).length;
    console.log(`ordinary day (seed ${SEED}|quiet-day): ${day.length} lookups from 3 instances, ${new Set(day.map((q) => q.qname)).size} distinct names (${encoded} encoded-looking), ${new Set(day.map((q) => registeredDomain(q.qname))).size} registered domains; false findings: ${falseFindings}`);
    expect(day.length).toBeGreaterThan(3000);
    expect(falseFindings).toBe(0);
  }, 180_000);
});

describe('what the DNS rules recognise, name by name (seeded)', () => {
  it('encoded labels of DNS tunnels: base32 and hex chunks nearly always, base64url mostly; AWS and company names never', () => {
    const rng = new Random(`${SEED}|names`);
    const tok = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[rng.int(0, alphabet.length - 1)]).join('');
    const rate = (make: () => string) => {
      let hit = 0;
      for (let i = 0; i < 1000; i++) if (looksEncoded(make())) hit++;
      return hit / 1000;
    };
    const rates = {
      base32: rate(() => `${tok(B32, 52)}.${tok(B32, 20)}.t.exfil-drop.net`),
      hex: rate(() => `${tok('0123456789abcdef', 40)}.t.exfil-drop.net`),
      base64url: rate(() => `${tok('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', 60)}.t.exfil-drop.net`),
    };
    console.log(`encoded-looking per name: ${JSON.stringify(rates)}`);
    expect(rates.base32).toBeGreaterThan(0.9);
    expect(rates.hex).toBeGreaterThan(0.95);
    expect(rates.base64url).toBeGreaterThan(0.7);
    for (const n of [
      'sts.us-east-1.amazonaws.com', 'northwind-data-7f3a9c21.s3.us-east-1.amazonaws.com', 'vpce-0a1b2c3d4e5f67890-abcdefgh.s3.us-east-1.vpce.amazonaws.com',
      'internal-northwind-app-alb-1234567890.us-east-1.elb.amazonaws.com', '123456789012.dkr.ecr.us-east-1.amazonaws.com', 'd1o2okarmddd8n.cloudfront.net',
      'applicationloadbalancerhealthcheck.northwind-analytics.com', 'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa',
    ]) expect(looksEncoded(n), n).toBe(false);
  });

  it('generated domains: random consonant strings mostly, pronounceable and short names never', () => {
    const rng = new Random(`${SEED}|dga-names`);
    let hit = 0;
    for (let i = 0; i < 1000; i++) if (looksGenerated(`${Array.from({ length: rng.int(10, 14) }, () => CONSONANTS[rng.int(0, CONSONANTS.length - 1)]).join('')}.com`)) hit++;
    console.log(`generated-looking per domain (consonant strings): ${hit / 1000}`);
    expect(hit / 1000).toBeGreaterThan(0.8);
    for (const d of ['northwind-analytics.com', 'amazonaws.com', 'cloudfront.net', 'googleapis.com', 'pythonhosted.org', 'debian.org', 'xkcd.com']) expect(looksGenerated(d), d).toBe(false);
  });
});
