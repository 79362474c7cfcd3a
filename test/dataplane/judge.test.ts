// Verdicts of the data plane against a hand-built topology: security groups stateful, network
// ACLs stateless with first match by rule number, return traffic on ephemeral ports.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { judgeFlow } from '../../src/cloud/services/ec2/dataplane/judge.ts';
import { parseCidr, parseAddr, cidrContains, ipv4ToInt, ipv6ToBigInt } from '../../src/cloud/services/ec2/dataplane/net.ts';
import type { Flow, Topology } from '../../src/cloud/services/ec2/dataplane/model.ts';
import { aclDeny, ROGUE, threeTier, USER } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const tcp = (srcaddr: string, dstaddr: string, dstport: number, over: Partial<Flow> = {}): Flow => ({
  srcaddr, dstaddr, srcport: 50123, dstport, protocol: 6, packets: 10, bytes: 1500, start: T0, end: T0 + 1000, ...over,
});
const summary = (t: Topology, f: Flow) => {
  const v = judgeFlow(f, t);
  return { action: v.action, seen: v.interfaces.map((o) => `${o.eni} ${o.leg} ${o.direction} ${o.action}`) };
};

describe('addresses', () => {
  it('parses IPv4 strictly and IPv6 with compression', () => {
    expect(ipv4ToInt('10.0.1.10')).toBe(0x0a00010a);
    expect(ipv4ToInt('010.0.1.1')).toBe(-1);
    expect(ipv4ToInt('256.0.0.1')).toBe(-1);
    expect(ipv4ToInt('1.2.3')).toBe(-1);
    expect(ipv6ToBigInt('::1')).toBe(1n);
    expect(ipv6ToBigInt('2001:db8::')).toBe(0x20010db8n << 96n);
    expect(ipv6ToBigInt('::ffff:192.0.2.1')).toBe((0xffffn << 32n) | 0xc0000201n);
    expect(ipv6ToBigInt('1::2::3')).toBeUndefined();
    expect(cidrContains(parseCidr('10.0.0.0/16'), parseAddr('10.0.255.1')!)).toBe(true);
    expect(cidrContains(parseCidr('10.0.0.0/16'), parseAddr('10.1.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseAddr('::1')!)).toBe(false);
    expect(cidrContains(parseCidr('2600:1f18:1::/56'), parseAddr('2600:1f18:1:1::10')!)).toBe(true);
  });

  it('IPv4 CIDR membership agrees with a reference computation', () => {
    fc.assert(fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, net, prefix) => {
      const ref = prefix === 0 || (ipv4ToInt(a) >>> (32 - prefix)) === (ipv4ToInt(net) >>> (32 - prefix));
      return cidrContains(parseCidr(`${net}/${prefix}`), parseAddr(a)!) === ref;
    }));
  });
});

describe('judgeFlow', () => {
  it('accepts HTTPS from the internet to the web tier, request and response, through the public address', () => {
    const t = threeTier();
    const v = judgeFlow(tcp(USER, '54.1.2.3', 443), t);
    expect(v.action).toBe('ACCEPT');
    expect(v.interfaces.map((o) => [o.eni, o.leg, o.direction, o.action, o.srcaddr, o.dstaddr, o.srcport, o.dstport])).toEqual([
      ['eni-web1', 'request', 'ingress', 'ACCEPT', USER, '10.0.1.10', 50123, 443],
      ['eni-web1', 'response', 'egress', 'ACCEPT', '10.0.1.10', USER, 443, 50123],
    ]);
    expect(v.interfaces[0]!.reason).toMatch(/network ACL acl-web inbound rule 100 allows tcp 443/);
    expect(v.interfaces[0]!.reason).toMatch(/security group sg-web \(web\) allows tcp 443 from 0.0.0.0\/0/);
    expect(v.interfaces[1]!.reason).toMatch(/stateful/);
    expect(v.interfaces[0]!.tcpFlags).toBe(3);
    expect(v.interfaces[1]!.tcpFlags).toBe(19);
  });

  it('rejects SSH from the internet at the web interface (no security group rule), one REJECT record', () => {
    const v = judgeFlow(tcp(ROGUE, '10.0.1.10', 22), threeTier());
    expect(v.action).toBe('REJECT');
    expect(v.interfaces).toHaveLength(1);
    expect(v.interfaces[0]).toMatchObject({ eni: 'eni-web1', direction: 'ingress', action: 'REJECT', tcpFlags: 2 });
    // the network ACL has no rule for 22 from the internet either: it decides first
    expect(v.reason).toMatch(/acl-web inbound rule \* denies tcp 22 from 203.0.113.66/);
  });

  it('security groups are stateful: the response leaves although sg-db allows no outbound 5432 traffic', () => {
    const v = judgeFlow(tcp('10.0.2.10', '10.0.3.10', 5432, { srcport: 40000 }), threeTier());
    expect(v.action).toBe('ACCEPT');
    expect(summaryOf(v)).toEqual([
      'eni-app1 request egress ACCEPT', 'eni-db1 request ingress ACCEPT', 'eni-db1 response egress ACCEPT', 'eni-app1 response ingress ACCEPT',
    ]);
    expect(v.interfaces[1]!.reason).toMatch(/members of sg-app/);
  });

  it('an outbound-initiated flow gets its return traffic: db → internet 443 is allowed back in', () => {
    const v = judgeFlow(tcp('10.0.3.10', '52.216.8.21', 443, { srcport: 45000 }), threeTier());
    expect(v.action).toBe('ACCEPT');
    expect(summaryOf(v)).toEqual(['eni-db1 request egress ACCEPT', 'eni-db1 response ingress ACCEPT']);
    expect(v.interfaces[1]!.reason).toMatch(/acl-db inbound rule 110 allows tcp 45000/);
  });

  it('network ACLs are stateless: a response to a port outside the allowed ephemeral range is dropped by the responder subnet', () => {
    // app → db from a Windows-XP-style port 3000: sg and inbound NACL allow it, the db outbound NACL has no rule for it
    const v = judgeFlow(tcp('10.0.2.10', '10.0.3.10', 5432, { srcport: 3000 }), threeTier());
    expect(v.action).toBe('REJECT');
    expect(summaryOf(v)).toEqual(['eni-app1 request egress ACCEPT', 'eni-db1 request ingress ACCEPT', 'eni-db1 response egress REJECT']);
    expect(v.reason).toMatch(/response dropped: network ACL acl-db outbound rule \* denies tcp 3000 to 10.0.2.10/);
    expect(v.interfaces[2]!.tcpFlags).toBe(18);
    expect(v.interfaces[0]!.tcpFlags).toBe(2);
  });

  it('the ICMP example of the AWS guide: ping accepted in, reply rejected by the outbound network ACL', () => {
    const t = threeTier();
    t.networkAcls[0]!.entries = t.networkAcls[0]!.entries.filter((e) => !e.egress); // no outbound rule at all
    const v = judgeFlow({ srcaddr: '203.0.113.12', dstaddr: '10.0.1.10', srcport: 0, dstport: 0, protocol: 1, icmpType: 8, packets: 4, bytes: 336, start: T0, end: T0 + 60_000 }, t);
    expect(summaryOf(v)).toEqual(['eni-web1 request ingress ACCEPT', 'eni-web1 response egress REJECT']);
    expect(v.interfaces[1]).toMatchObject({ srcaddr: '10.0.1.10', dstaddr: '203.0.113.12', srcport: 0, dstport: 0, packets: 4, bytes: 336, tcpFlags: 0 });
  });

  it('first match by rule number wins: a deny numbered before the allow blocks, after it does not', () => {
    const before = threeTier();
    before.networkAcls[0]!.entries.push(aclDeny(90, false, `${ROGUE}/32`));
    expect(summary(before, tcp(ROGUE, '10.0.1.10', 443))).toEqual({ action: 'REJECT', seen: ['eni-web1 request ingress REJECT'] });
    expect(judgeFlow(tcp(ROGUE, '10.0.1.10', 443), before).reason).toMatch(/inbound rule 90 denies tcp 443 from 203.0.113.66 \(203.0.113.66\/32\)/);
    expect(summary(before, tcp(USER, '10.0.1.10', 443)).action).toBe('ACCEPT');

    const after = threeTier();
    after.networkAcls[0]!.entries.push(aclDeny(150, false, `${ROGUE}/32`));
    expect(summary(after, tcp(ROGUE, '10.0.1.10', 443)).action).toBe('ACCEPT');
  });

  it('a deny on the egress side of the source subnet stops traffic leaving it', () => {
    const t = threeTier();
    t.networkAcls[1]!.entries.push(aclDeny(50, true, '203.0.113.0/24'));
    expect(summary(t, tcp('10.0.2.10', ROGUE, 443))).toEqual({ action: 'REJECT', seen: ['eni-app1 request egress REJECT'] });
  });

  it('security group references match member interfaces only', () => {
    const t = threeTier();
    expect(summary(t, tcp('10.0.1.10', '10.0.2.10', 8080)).action).toBe('ACCEPT'); // web → app
    expect(summary(t, tcp('10.0.3.10', '10.0.2.10', 8080))).toMatchObject({ action: 'REJECT' }); // db → app: db's sg egress has only 443
    expect(summary(t, tcp('10.0.1.10', '10.0.3.10', 5432)).seen).toContain('eni-db1 request ingress REJECT'); // web → db
  });

  it('does not evaluate network ACLs for traffic inside one subnet', () => {
    const t = threeTier();
    // web1 → web2 on 22: acl-web has no rule for 22 from 10.0.1.11? it does (10.0.0.0/16); remove all ACL entries to be sure
    t.networkAcls[0]!.entries = [];
    expect(summary(t, tcp('10.0.1.11', '10.0.1.10', 22)).action).toBe('ACCEPT');
    expect(summary(t, tcp('10.0.1.11', '10.0.2.10', 8080)).action).toBe('REJECT');
  });

  it('IPv6 traffic matches IPv6 rules only', () => {
    const t = threeTier();
    expect(summary(t, tcp('2001:db8::5', '2600:1f18:1:1::10', 443)).action).toBe('ACCEPT');
    expect(summary(t, tcp('2001:db8::5', '2600:1f18:0001:0001:0:0:0:0010', 443)).seen[0]).toBe('eni-web1 request ingress ACCEPT');
    const v4only = threeTier(); // a snapshot is immutable once judged: change a fresh one
    v4only.networkAcls[0]!.entries = v4only.networkAcls[0]!.entries.filter((e) => e.cidr !== '::/0');
    expect(summary(v4only, tcp('2001:db8::5', '2600:1f18:1:1::10', 443))).toEqual({ action: 'REJECT', seen: ['eni-web1 request ingress REJECT'] });
  });

  it('stopped instances neither send nor receive, and leave no record', () => {
    const t = threeTier();
    expect(judgeFlow(tcp('10.0.2.99', '203.0.113.9', 443), t)).toMatchObject({ action: 'REJECT', interfaces: [] });
    expect(judgeFlow(tcp(USER, '10.0.2.99', 8080), t)).toMatchObject({ action: 'REJECT', interfaces: [] });
    const fromInside = judgeFlow(tcp('10.0.1.10', '10.0.2.99', 8080), t);
    expect(fromInside.action).toBe('REJECT');
    expect(fromInside.reason).toMatch(/stopped/);
    expect(summaryOf(fromInside)).toEqual(['eni-web1 request egress ACCEPT']);
  });

  it('traffic between two outside addresses is not observed', () => {
    expect(judgeFlow(tcp(USER, ROGUE, 443), threeTier()).action).toBe('UNOBSERVED');
  });

  it('an interface filter keeps only what that interface saw', () => {
    const v = judgeFlow(tcp('10.0.2.10', '10.0.3.10', 5432, { srcport: 40000, interfaceId: 'eni-db1', direction: 'ingress' }), threeTier());
    expect(summaryOf(v)).toEqual(['eni-db1 request ingress ACCEPT']);
  });

  it('UDP and explicit no-response flows', () => {
    const t = threeTier();
    t.securityGroups[1]!.ingress.push({ protocol: 17, fromPort: 514, toPort: 514, cidr: '10.0.0.0/16' });
    const v = judgeFlow({ ...tcp('10.0.1.10', '10.0.2.10', 514), protocol: 17, response: false }, t);
    expect(summaryOf(v)).toEqual(['eni-web1 request egress ACCEPT', 'eni-app1 request ingress ACCEPT']);
    expect(v.interfaces[0]!.tcpFlags).toBe(0);
  });
});

function summaryOf(v: ReturnType<typeof judgeFlow>): string[] {
  return v.interfaces.map((o) => `${o.eni} ${o.leg} ${o.direction} ${o.action}`);
}
