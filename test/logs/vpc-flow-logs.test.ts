// VPC Flow Logs records through metric filters.
// Records: "Flow log record examples", https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html
// (default format, version 2: version account-id interface-id srcaddr dstaddr srcport dstport
// protocol packets bytes start end action log-status).
// Pattern: "Create a CloudWatch metric filter and alarm for a flow log",
// https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-cwl.html (rejected SSH traffic).
import { describe, expect, it } from 'vitest';
import { compile, dimensionValues, metricValue, testMetricFilter } from '../../src/cloud/services/logs/filter-pattern/index.ts';
import { matching } from './helpers.ts';

const SSH_REJECT =
  '[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]';

const acceptedSsh = '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
const rejectedRdp = '2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK';
const noData = '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA';
const skipData = '2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA';
const rejectedSsh = '2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.21 51234 22 6 1 44 1418530010 1418530070 REJECT OK';
const rejectedSshUdp = '2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.21 51234 22 17 1 44 1418530010 1418530070 REJECT OK';
const records = [acceptedSsh, rejectedRdp, noData, skipData, rejectedSsh, rejectedSshUdp];

describe('the rejected-SSH metric filter of the VPC documentation', () => {
  it('matches only rejected TCP traffic to port 22', () => {
    expect(matching(SSH_REJECT, records)).toEqual([rejectedSsh]);
  });

  it('extracts the fourteen fields by name', () => {
    expect(compile(SSH_REJECT).match(rejectedSsh).fields).toEqual({
      $version: '2',
      $account: '123456789010',
      $eni: 'eni-1235b8ca123456789',
      $source: '203.0.113.12',
      $destination: '172.31.16.21',
      $srcport: '51234',
      $destport: '22',
      $protocol: '6',
      $packets: '1',
      $bytes: '44',
      $windowstart: '1418530010',
      $windowend: '1418530070',
      $action: 'REJECT',
      $flowlogstatus: 'OK',
    });
  });

  it('counts one per rejected attempt, with a default of 0 for the other records', () => {
    const p = compile(SSH_REJECT);
    const t = { metricValue: '1', defaultValue: 0 };
    expect(records.map((r) => metricValue(p, p.match(r), t))).toEqual([0, 0, 0, 0, 1, 0]);
  });

  it('quoted and unquoted values compare the same way (destport=22, action=REJECT)', () => {
    expect(
      matching(
        '[version, account, eni, source, destination, srcport, destport=22, protocol=6, packets, bytes, windowstart, windowend, action=REJECT, flowlogstatus]',
        records,
      ),
    ).toEqual([rejectedSsh]);
  });
});

describe('other flow-log filters of the network lab', () => {
  it('any REJECT, whatever the format after the action field: [..., action="REJECT", status]', () => {
    expect(matching('[..., action="REJECT", status]', records)).toEqual([rejectedRdp, rejectedSsh, rejectedSshUdp]);
  });

  it('large outbound transfers to addresses outside the VPC: bytes as the metric value, destination not 172.31.*', () => {
    const p = compile(
      '[version, account, eni, source=172.31.*, destination!=172.31.*, srcport, destport, protocol, packets, bytes>=1000000, windowstart, windowend, action=ACCEPT, flowlogstatus]',
    );
    const exfil = '2 123456789010 eni-0a1b2c3d4e5f60718 172.31.20.5 198.51.100.77 40112 443 6 9000 12500000 1418530010 1418530070 ACCEPT OK';
    const internal = '2 123456789010 eni-0a1b2c3d4e5f60718 172.31.20.5 172.31.30.9 40112 5432 6 9000 12500000 1418530010 1418530070 ACCEPT OK';
    const small = '2 123456789010 eni-0a1b2c3d4e5f60718 172.31.20.5 198.51.100.77 40112 443 6 3 1200 1418530010 1418530070 ACCEPT OK';
    expect([exfil, internal, small, noData].map((r) => metricValue(p, p.match(r), { metricValue: '$bytes' }))).toEqual([
      12500000,
      undefined,
      undefined,
      undefined,
    ]);
    expect(metricValue(p, p.match(exfil), { metricValue: '$10' })).toBe(12500000); // by position
  });

  it('dimensions from fields: the source address of rejected SSH', () => {
    const p = compile(SSH_REJECT);
    expect(dimensionValues(p, p.match(rejectedSsh), { SourceAddress: '$source', Interface: '$eni' })).toEqual({
      SourceAddress: '203.0.113.12',
      Interface: 'eni-1235b8ca123456789',
    });
  });

  it('port scans: many destination ports — ranges with numeric conditions', () => {
    expect(
      matching('[version, account, eni, source, destination, srcport, destport >= 1 && destport <= 1023, protocol, packets, bytes, start, end, action, status]', records),
    ).toEqual([acceptedSsh, rejectedSsh, rejectedSshUdp]);
  });

  it('custom formats with v3–v5 fields are matched by position like any other', () => {
    // ${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${account-id} ${type} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${protocol} ${bytes} ${packets} ${start} ${end} ${action} ${tcp-flags} ${log-status}
    const v3 =
      '3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 2 OK';
    const p = compile('[version=3, vpc, subnet, instance, eni, account, type, src, dst, srcport, dstport=5001, pktsrc, pktdst, protocol, bytes, packets, start, end, action, flags, status]');
    expect(p.test(v3)).toBe(true);
    expect(testMetricFilter('[..., action, flags=2, status]', [v3]).matches[0]!.extractedValues).toMatchObject({ $action: 'ACCEPT', $flags: '2', $1: '3' });
  });
});
