// Conformance cases for EventBridge event patterns.
// Sources:
//  - docs: AWS EventBridge user guide examples (event patterns, content filtering, arrays, null values)
//  - aws-validated: LocalStack's event_pattern_templates, recorded against AWS TestEventPattern
//    (localstack/localstack tests/aws/services/events/event_pattern_templates, "_NEG" = no match)
//  - event-ruler: aws/event-ruler README and tests (RulerTest, correctness-cases.json, CIDRTest), with the
//    expectations of its array-consistent rulesForJSONEvent
export interface MatchCase {
  name: string;
  source: 'docs' | 'aws-validated' | 'event-ruler';
  pattern: object;
  event: object;
  match: boolean;
}

const envelope = {
  id: '1',
  source: 'test-source',
  'detail-type': 'test-detail-type',
  account: '123456789012',
  region: 'us-east-2',
  time: '2022-07-13T13:48:01Z',
};

/** The EC2 example event of the content-filtering page and event-ruler's README. */
export const README_EVENT = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const withDetail = (detail: object) => ({ ...envelope, detail });

export const DOC_CASES: MatchCase[] = [
  {
    name: 'simple matching on detail-type, resources, detail.state',
    source: 'docs',
    pattern: {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
      detail: { state: ['initializing', 'running'] },
    },
    event: README_EVENT,
    match: true,
  },
  { name: 'prefix on time', source: 'docs', pattern: { time: [{ prefix: '2017-10-02' }] }, event: README_EVENT, match: true },
  { name: 'prefix on time, other day', source: 'docs', pattern: { time: [{ prefix: '2017-10-03' }] }, event: README_EVENT, match: false },
  { name: 'suffix on source', source: 'docs', pattern: { source: [{ suffix: 'ec2' }] }, event: README_EVENT, match: true },
  { name: 'equals-ignore-case on source', source: 'docs', pattern: { source: [{ 'equals-ignore-case': 'AWS.EC2' }] }, event: README_EVENT, match: true },
  { name: 'anything-but string', source: 'docs', pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } }, event: README_EVENT, match: true },
  { name: 'anything-but string, excluded', source: 'docs', pattern: { detail: { state: [{ 'anything-but': 'running' }] } }, event: README_EVENT, match: false },
  { name: 'anything-but number', source: 'docs', pattern: { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, event: README_EVENT, match: true },
  {
    name: 'anything-but string list',
    source: 'docs',
    pattern: { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    event: README_EVENT,
    match: true,
  },
  {
    name: 'anything-but number list',
    source: 'docs',
    pattern: { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    event: README_EVENT,
    match: true,
  },
  {
    name: 'anything-but prefix',
    source: 'docs',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    event: README_EVENT,
    match: true,
  },
  {
    name: 'anything-but prefix, excluded',
    source: 'docs',
    pattern: { detail: { state: [{ 'anything-but': { prefix: 'run' } }] } },
    event: README_EVENT,
    match: false,
  },
  {
    name: 'numeric matching',
    source: 'docs',
    pattern: {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    },
    event: README_EVENT,
    match: true,
  },
  { name: 'IP address matching', source: 'docs', pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, event: README_EVENT, match: true },
  { name: 'IP address matching, /8', source: 'docs', pattern: { detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } }, event: README_EVENT, match: true },
  { name: 'IP address outside block', source: 'docs', pattern: { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, event: README_EVENT, match: false },
  { name: 'exists true', source: 'docs', pattern: { detail: { 'c-count': [{ exists: true }] } }, event: README_EVENT, match: true },
  { name: 'exists false on present field', source: 'docs', pattern: { detail: { 'c-count': [{ exists: false }] } }, event: README_EVENT, match: false },
  {
    name: 'exists false matches an event without the field',
    source: 'docs',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: { ...envelope, detail: { state: 'running' } },
    match: true,
  },
  {
    name: 'exists false matches when the field is not a leaf ("c-count isn\'t a leaf node")',
    source: 'docs',
    pattern: { detail: { 'c-count': [{ exists: false }] } },
    event: { ...envelope, detail: { state: 'running', 'c-count': { c1: 100 } } },
    match: true,
  },
  {
    name: 'complex example',
    source: 'docs',
    pattern: {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    },
    event: README_EVENT,
    match: true,
  },
  {
    name: '$or normal: source && (metricName || namespace)',
    source: 'docs',
    pattern: { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] },
    event: { source: 'aws.cloudwatch', namespace: 'AWS/ES' },
    match: true,
  },
  {
    name: '$or normal, neither alternative',
    source: 'docs',
    pattern: { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] },
    event: { source: 'aws.cloudwatch', namespace: 'AWS/RDS', metricName: 'Errors' },
    match: false,
  },
  {
    name: '$or with an AND inside',
    source: 'docs',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'] }, { scope: ['Service'] }],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2' },
    match: true,
  },
  {
    name: '$or with an AND inside, half of the AND',
    source: 'docs',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'] }, { scope: ['Service'] }],
    },
    event: { source: 'aws.cloudwatch', namespace: 'AWS/EC2' },
    match: false,
  },
  {
    name: 'nested $or and AND',
    source: 'docs',
    pattern: {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
        { scope: ['Service'] },
      ],
    },
    event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1000 },
    match: true,
  },
  {
    name: 'parallel $or at two levels',
    source: 'docs',
    pattern: {
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    },
    event: { namespace: 'AWS/EC2', detail: { 'detail-type': 'CloudWatch Alarm State Change' } },
    match: true,
  },
  {
    name: 'value matching on nested numbers (Macie example)',
    source: 'docs',
    pattern: { source: ['aws.macie'], 'detail-type': ['Macie Alert'], detail: { 'risk-score': [80], trigger: { risk: [8] } } },
    event: { source: 'aws.macie', 'detail-type': 'Macie Alert', detail: { 'risk-score': 80, tags: ['Custom_Alert', 'Insider'], trigger: { risk: 8 } } },
    match: true,
  },
  {
    name: 'null value',
    source: 'docs',
    pattern: { detail: { responseElements: [null] } },
    event: withDetail({ eventVersion: '', responseElements: null }),
    match: true,
  },
  { name: 'empty string', source: 'docs', pattern: { detail: { eventVersion: [''] } }, event: withDetail({ eventVersion: '', responseElements: null }), match: true },
  {
    name: 'null and empty string are not interchangeable',
    source: 'docs',
    pattern: { detail: { responseElements: [''] } },
    event: withDetail({ eventVersion: '', responseElements: null }),
    match: false,
  },
  {
    name: 'arrays: intersection of pattern and event arrays',
    source: 'docs',
    pattern: {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    },
    event: {
      ...envelope,
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    match: true,
  },
  {
    name: 'prefix equals-ignore-case',
    source: 'docs',
    pattern: { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    event: withDetail({ service: 'eventbridge' }),
    match: true,
  },
  {
    name: 'suffix equals-ignore-case',
    source: 'docs',
    pattern: { detail: { service: [{ suffix: { 'equals-ignore-case': 'tbridge' } }] } },
    event: withDetail({ service: 'EVENTBRIDGE' }),
    match: true,
  },
  { name: 'anything-but suffix', source: 'docs', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'a.jpg' }, match: true },
  { name: 'anything-but suffix, excluded', source: 'docs', pattern: { FileName: [{ 'anything-but': { suffix: '.png' } }] }, event: { FileName: 'a.png' }, match: false },
  {
    name: 'anything-but equals-ignore-case',
    source: 'docs',
    pattern: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
    event: { state: 'INITIALIZING' },
    match: false,
  },
  { name: 'anything-but wildcard', source: 'docs', pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: '/usr/lib/x' }, match: false },
  { name: 'anything-but wildcard, other path', source: 'docs', pattern: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, event: { FilePath: '/usr/bin/x' }, match: true },
  { name: 'wildcard', source: 'docs', pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] }, event: { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myEventBus' }, match: true },
  { name: 'wildcard needs the literal parts', source: 'docs', pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] }, event: { EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/myEventBus' }, match: false },
  { name: 'empty string value ("LastName is empty")', source: 'docs', pattern: { LastName: [''] }, event: { LastName: '' }, match: true },
  { name: 'field names are case sensitive', source: 'docs', pattern: { Source: ['aws.ec2'] }, event: README_EVENT, match: false },
];

export const AWS_VALIDATED_CASES: MatchCase[] = [
  { name: 'arrays_empty_null_NEG', source: 'aws-validated', pattern: { resources: [null] }, event: { ...envelope, resources: [] }, match: false },
  {
    name: 'content_anything_but_string_null',
    source: 'aws-validated',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: withDetail({ state: null }),
    match: true,
  },
  {
    name: 'content_anything_but_string_missing_NEG',
    source: 'aws-validated',
    pattern: { detail: { state: [{ 'anything-but': 'initializing' }] } },
    event: withDetail({}),
    match: false,
  },
  {
    name: 'exists_list_empty_NEG',
    source: 'aws-validated',
    pattern: { resources: [{ exists: true }] },
    event: { ...envelope, resources: [], detail: { eventVersion: '', responseElements: null } },
    match: false,
  },
  {
    name: 'or-exists-parent',
    source: 'aws-validated',
    pattern: { dynamodb: { NewImage: { homemade: { S: [{ 'anything-but': ['roses'] }, { exists: false }] } } } },
    event: { ...envelope, dynamodb: { NewImage: { purchased: { N: '789' } } } },
    match: true,
  },
  {
    name: 'or-exists',
    source: 'aws-validated',
    pattern: { dynamodb: { NewImage: { homemade: { S: [{ 'anything-but': ['roses'] }, { exists: false }] } } } },
    event: { ...envelope, dynamodb: { NewImage: { homemade: { N: '789' } } } },
    match: true,
  },
  {
    name: 'nested_json_NEG (a JSON string is not an object)',
    source: 'aws-validated',
    pattern: { detail: { 'my-key': ['my-value'] } },
    event: { ...envelope, detail: '{"my-key": "my-value"}' },
    match: false,
  },
  {
    name: 'exists_dynamodb_NEG (exists only works on leaf nodes)',
    source: 'aws-validated',
    pattern: { dynamodb: { presentKey: [{ exists: true }] } },
    event: { ...envelope, dynamodb: { id: { S: 'test1234' }, presentKey: { S: 'test123' } } },
    match: false,
  },
  {
    name: 'content_wildcard_repeating',
    source: 'aws-validated',
    pattern: { FileName: [{ wildcard: '/Users/*/dir/dir/dir/dir/dir/doc.txt' }] },
    event: { ...envelope, FileName: '/Users/ls_user/dir/dir/dir/dir/dir/doc.txt' },
    match: true,
  },
  {
    name: 'content_wildcard_nonrepeating_NEG',
    source: 'aws-validated',
    pattern: { FileName: [{ wildcard: '/Users/*/doc.txt' }] },
    event: { ...envelope, FileName: '/Users/ls_user/dir/dir/dir/dir/dir/notmatchingdoc.txt' },
    match: false,
  },
  {
    name: 'content_wildcard_simplified',
    source: 'aws-validated',
    pattern: { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    event: { ...envelope, EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myEventBus' },
    match: true,
  },
  { name: 'numeric-int-float', source: 'aws-validated', pattern: { number: [{ numeric: ['>', 100] }] }, event: { ...envelope, number: 101.0 }, match: true },
  { name: 'numeric-string_NEG', source: 'aws-validated', pattern: { number: [{ numeric: ['>', 100] }] }, event: { ...envelope, number: '300' }, match: false },
  { name: 'number_comparison_float (300 equals 300.0)', source: 'aws-validated', pattern: { number: [300] }, event: { ...envelope, number: 300.0 }, match: true },
  {
    name: 'list_within_dict',
    source: 'aws-validated',
    pattern: { detail: { automations: { id: [{ exists: true }] } } },
    event: withDetail({ automations: [{ key1: 'value1' }, { id: 'match-does-exist' }, { key2: 'value2' }] }),
    match: true,
  },
  {
    name: 'content_anything_but_number_zero',
    source: 'aws-validated',
    pattern: { detail: { 'x-limit': [{ 'anything-but': 0 }] } },
    event: withDetail({ 'x-limit': 789 }),
    match: true,
  },
  {
    name: 'content_ip_address_v6',
    source: 'aws-validated',
    pattern: { detail: { sourceIPAddress: [{ cidr: '2001:db8:1234:1a00::/64' }] } },
    event: withDetail({ sourceIPAddress: '2001:0db8:1234:1a00:0000:0000:0000:0000' }),
    match: true,
  },
  {
    name: 'content_ip_address_NEG (not an address)',
    source: 'aws-validated',
    pattern: { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } },
    event: withDetail({ sourceIPAddress: '10.0.0.256' }),
    match: false,
  },
  {
    name: 'content_ignorecase_empty',
    source: 'aws-validated',
    pattern: { detail: { value: [{ 'equals-ignore-case': '' }] } },
    event: withDetail({ value: '' }),
    match: true,
  },
  {
    name: 'or-numeric-anything-but',
    source: 'aws-validated',
    pattern: { dynamodb: { NewImage: { numericFilter: { N: [{ numeric: ['>', 100] }, { 'anything-but': '101' }] } } } },
    event: { ...envelope, dynamodb: { NewImage: { id: { S: 'id_value_1' }, numericFilter: { N: '42' } } } },
    match: true,
  },
  {
    name: 'operator_multiple_list',
    source: 'aws-validated',
    pattern: { my_key: [{ exists: true }, { prefix: 'IGNORED' }, { suffix: 'IGNORED' }] },
    event: { ...envelope, my_key: 'my-value' },
    match: true,
  },
  {
    name: 'content_anything_wildcard_int (numbers pass anything-but wildcard)',
    source: 'aws-validated',
    pattern: { detail: { FilePath: [{ 'anything-but': { wildcard: '*/dir/*' } }] } },
    event: withDetail({ FilePath: 123 }),
    match: true,
  },
  {
    name: 'content_anything_prefix_list_NEG',
    source: 'aws-validated',
    pattern: { detail: { state: [{ 'anything-but': { prefix: ['init', 'post'] } }] } },
    event: withDetail({ state: 'post-init' }),
    match: false,
  },
  {
    name: 'content_anything_wildcard_list_NEG',
    source: 'aws-validated',
    pattern: { detail: { state: [{ 'anything-but': { wildcard: ['*/init/*', '*/dir/*'] } }] } },
    event: withDetail({ state: 'dir/init/dir' }),
    match: false,
  },
  {
    name: 'content_exists_false_NEG (deep leaf present)',
    source: 'aws-validated',
    pattern: { detail: { level1: { level2: { level3: { level4: [{ exists: false }] } } } } },
    event: withDetail({ level1: { level2: { level3: { level4: 'l4 value' } } } }),
    match: false,
  },
  {
    name: 'content_suffix_ignorecase',
    source: 'aws-validated',
    pattern: { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    event: withDetail({ FileName: 'image.PNG' }),
    match: true,
  },
  {
    name: 'complex_or',
    source: 'aws-validated',
    pattern: {
      detail: {
        $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { 'x-limit': [{ numeric: ['=', 3.018e2] }] }],
      },
    },
    event: withDetail({ 'c-count': 0, 'd-count': 0, 'x-limit': 9.018e2 }),
    match: true,
  },
  {
    name: 'content_numeric_and_NEG',
    source: 'aws-validated',
    pattern: {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    },
    event: withDetail({ 'c-count': 3, 'd-count': 10, 'x-limit': 3.018e2 }),
    match: false,
  },
  {
    name: 'escape characters: literal * and \\ as plain values',
    source: 'aws-validated',
    pattern: { detail: { escape_star: ['*'], escape_backslash: ['\\'] } },
    event: withDetail({ escape_star: '*', escape_backslash: '\\' }),
    match: true,
  },
  {
    name: 'anything-but list with a null value passes (PutEvents to SQS test)',
    source: 'aws-validated',
    pattern: { source: ['core.update-account-command'], detail: { command: [{ 'anything-but': ['no-message'] }] } },
    event: { ...envelope, source: 'core.update-account-command', detail: { command: null, payload: 'baz' } },
    match: true,
  },
  {
    name: 'anything-but list excludes the value (PutEvents to SQS test)',
    source: 'aws-validated',
    pattern: { source: ['core.update-account-command'], detail: { command: [{ 'anything-but': ['no-message'] }] } },
    event: { ...envelope, source: 'core.update-account-command', detail: { command: 'no-message', payload: 'baz' } },
    match: false,
  },
  {
    name: 'content-based rule with every operator (PutEvents to SQS test)',
    source: 'aws-validated',
    pattern: {
      source: [{ exists: true }],
      'detail-type': [{ prefix: 'core.app' }],
      detail: {
        description: ['this-is-event-details'],
        amount: [200],
        salary: [2000, 4000],
        env: ['dev', 'prod'],
        user: ['user1', 'user2', 'user3'],
        admins: ['skyli', { prefix: 'hey' }, { prefix: 'ad' }],
        test1: [{ 'anything-but': 200 }],
        test2: [{ 'anything-but': 'test2' }],
        test3: [{ 'anything-but': ['test3', 'test33'] }],
        test4: [{ 'anything-but': { prefix: 'test4' } }],
        ip: [{ cidr: '10.102.1.0/24' }],
        'num-test1': [{ numeric: ['<', 200] }],
        'num-test2': [{ numeric: ['<=', 200] }],
        'num-test3': [{ numeric: ['>', 200] }],
        'num-test4': [{ numeric: ['>=', 200] }],
        'num-test5': [{ numeric: ['>=', 200, '<=', 500] }],
        'num-test6': [{ numeric: ['>', 200, '<', 500] }],
        'num-test7': [{ numeric: ['>=', 200, '<', 500] }],
      },
    },
    event: {
      ...envelope,
      source: 'core.update-account-command',
      'detail-type': 'core.app.backend',
      detail: {
        description: 'this-is-event-details',
        amount: 200,
        salary: 2000,
        env: 'prod',
        user: 'user3',
        admins: 'admin',
        test1: 300,
        test2: 'test22',
        test3: 'test333',
        test4: 'this test4',
        ip: '10.102.1.100',
        'num-test1': 100,
        'num-test2': 200,
        'num-test3': 300,
        'num-test4': 200,
        'num-test5': 500,
        'num-test6': 300,
        'num-test7': 300,
      },
    },
    match: true,
  },
];

const RFC_JSON = {
  Image: {
    Width: 800,
    Height: 600,
    Title: 'View from 15th Floor',
    Thumbnail: { Url: 'http://www.example.com/image/481989943', Height: 125, Width: 100 },
    Animated: false,
    IDs: [116, 943, 234, 38793],
  },
};

const COMPLEX_ARRAYS = {
  employees: [
    [
      { firstName: 'John', lastName: 'Doe', ids: [1234, 1000, 9999] },
      { firstName: 'Anna', lastName: 'Smith' },
    ],
    [{ firstName: 'Peter', lastName: 'Jones', ids: [] }],
  ],
};

const EMPLOYEES = {
  employees: [
    { firstName: 'John', lastName: 'Doe' },
    { firstName: 'Anna', lastName: 'Smith' },
    { firstName: 'Peter', lastName: 'Jones' },
  ],
};

export const EVENT_RULER_CASES: MatchCase[] = [
  // README "JSON Array Matching"
  { name: 'array crushed out of the pattern', source: 'event-ruler', pattern: { employees: { firstName: ['Anna'] } }, event: EMPLOYEES, match: true },
  {
    name: 'array consistency: Anna/Jones come from different elements',
    source: 'event-ruler',
    pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
    event: EMPLOYEES,
    match: false,
  },
  { name: 'array consistency: Anna/Smith in one element', source: 'event-ruler', pattern: { employees: { firstName: ['Anna'], lastName: ['Smith'] } }, event: EMPLOYEES, match: true },
  // RulerTest WHEN_WeWriteRulesToMatchVariousFieldCombos_THEN_TheyWork
  { name: 'RFC: width and thumbnail height', source: 'event-ruler', pattern: { Image: { Width: [800], Thumbnail: { Height: [125, 300] } } }, event: RFC_JSON, match: true },
  { name: 'RFC: url prefix', source: 'event-ruler', pattern: { Image: { Thumbnail: { Url: [{ prefix: 'http' }] } } }, event: RFC_JSON, match: true },
  {
    name: 'RFC: many operators',
    source: 'event-ruler',
    pattern: {
      Image: {
        Width: [{ numeric: ['<', 1000] }],
        Height: [{ numeric: ['<=', 600] }],
        Title: [{ 'anything-but': 'View from 15th Flood' }],
        Thumbnail: { Url: [{ prefix: 'http' }], Height: [{ numeric: ['>', 124, '<', 126] }], Width: [{ numeric: ['>=', 99.999, '<=', 100] }] },
        Animated: [false],
      },
    },
    event: RFC_JSON,
    match: true,
  },
  { name: 'RFC: width < 800', source: 'event-ruler', pattern: { Image: { Width: [{ numeric: ['<', 800] }] } }, event: RFC_JSON, match: false },
  { name: 'RFC: height < 599', source: 'event-ruler', pattern: { Image: { Height: [{ numeric: ['<', 599] }] } }, event: RFC_JSON, match: false },
  { name: 'RFC: anything-but the title', source: 'event-ruler', pattern: { Image: { Title: [{ 'anything-but': 'View from 15th Floor' }] } }, event: RFC_JSON, match: false },
  { name: 'RFC: https prefix', source: 'event-ruler', pattern: { Image: { Thumbnail: { Url: [{ prefix: 'https' }] } } }, event: RFC_JSON, match: false },
  { name: 'RFC: open range excludes 125', source: 'event-ruler', pattern: { Image: { Thumbnail: { Height: [{ numeric: ['>', 124, '<', 125] }] } } }, event: RFC_JSON, match: false },
  { name: 'RFC: 100.00001 > 100', source: 'event-ruler', pattern: { Image: { Thumbnail: { Width: [{ numeric: ['>=', 100.00001, '<=', 1001] }] } } }, event: RFC_JSON, match: false },
  { name: 'RFC: Animated true', source: 'event-ruler', pattern: { Image: { Animated: [true] } }, event: RFC_JSON, match: false },
  { name: 'RFC: IDs array', source: 'event-ruler', pattern: { Image: { IDs: [943] } }, event: RFC_JSON, match: true },
  // RulerTest WHEN_JSONContainsArrays_THEN_RulerNoCompileMatchesWork
  { name: 'complex arrays: Anna', source: 'event-ruler', pattern: { employees: { firstName: ['Anna'] } }, event: COMPLEX_ARRAYS, match: true },
  { name: 'complex arrays: John with id 1000', source: 'event-ruler', pattern: { employees: { firstName: ['John'], ids: [1000] } }, event: COMPLEX_ARRAYS, match: true },
  { name: 'complex arrays: Anna without ids', source: 'event-ruler', pattern: { employees: { firstName: ['Anna'], ids: [{ exists: false }] } }, event: COMPLEX_ARRAYS, match: true },
  { name: 'complex arrays: Alice', source: 'event-ruler', pattern: { employees: { firstName: ['Alice'] } }, event: COMPLEX_ARRAYS, match: false },
  { name: 'complex arrays: Anna Jones', source: 'event-ruler', pattern: { employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event: COMPLEX_ARRAYS, match: false },
  { name: 'complex arrays: Alice Bob', source: 'event-ruler', pattern: { employees: { firstName: ['Alice'], lastName: ['Bob'] } }, event: COMPLEX_ARRAYS, match: false },
  { name: 'complex arrays: missing field a', source: 'event-ruler', pattern: { a: ['b'] }, event: COMPLEX_ARRAYS, match: false },
  { name: 'complex arrays: employees as a leaf', source: 'event-ruler', pattern: { employees: ['b'] }, event: COMPLEX_ARRAYS, match: false },
  { name: 'complex arrays: Anna with id 1000', source: 'event-ruler', pattern: { employees: { firstName: ['Anna'], ids: [1000] } }, event: COMPLEX_ARRAYS, match: false },
  { name: 'complex arrays: Anna with ids', source: 'event-ruler', pattern: { employees: { firstName: ['Anna'], ids: [{ exists: true }] } }, event: COMPLEX_ARRAYS, match: false },
  // RulerTest WHEN_WeTryToMatchExistsRules_THEN_TheyWork
  { name: 'exists 1/1', source: 'event-ruler', pattern: { a: [{ exists: true }] }, event: { a: 1 }, match: true },
  { name: 'exists 2/1', source: 'event-ruler', pattern: { b: [{ exists: false }] }, event: { a: 1 }, match: true },
  { name: 'exists 3/1', source: 'event-ruler', pattern: { x: [{ exists: true }] }, event: { a: 1 }, match: false },
  { name: 'exists 1/2', source: 'event-ruler', pattern: { a: [{ exists: true }] }, event: { b: 2 }, match: false },
  { name: 'exists 2/2', source: 'event-ruler', pattern: { b: [{ exists: false }] }, event: { b: 2 }, match: false },
  { name: 'exists 3/3', source: 'event-ruler', pattern: { x: [{ exists: true }] }, event: { x: 'X' }, match: true },
  { name: 'exists 4/3', source: 'event-ruler', pattern: { x: [{ exists: false }] }, event: { x: 'X' }, match: false },
  // WHEN_WeTryReallySimpleRules_THEN_TheyWork
  { name: 'simple number', source: 'event-ruler', pattern: { a: [1] }, event: { a: 1 }, match: true },
  { name: 'simple string', source: 'event-ruler', pattern: { x: ['X'] }, event: { x: 'X' }, match: true },
  { name: 'simple: true is not "X"', source: 'event-ruler', pattern: { x: ['X'] }, event: { x: true }, match: false },
  // WHEN_WeTryEqualsIgnoreCaseRules_THEN_TheyWork
  {
    name: 'equals-ignore-case all three',
    source: 'event-ruler',
    pattern: { a: [{ 'equals-ignore-case': 'aBc' }], b: [{ 'equals-ignore-case': 'Def' }], c: [{ 'equals-ignore-case': 'xyZ' }] },
    event: { a: 'ABC', b: 'def', c: 'xYz', d: 'rst' },
    match: true,
  },
  {
    name: 'equals-ignore-case is not a prefix match',
    source: 'event-ruler',
    pattern: { a: [{ 'equals-ignore-case': 'aBc' }], b: [{ 'equals-ignore-case': 'Def' }], c: [{ 'equals-ignore-case': 'xyZ' }] },
    event: { a: 'ABC', b: 'defx', c: 'xYz', d: 'rst' },
    match: false,
  },
  // WHEN_WeTryWildcardRules_THEN_TheyWork
  {
    name: 'wildcards all match',
    source: 'event-ruler',
    pattern: { a: [{ wildcard: '*bc' }], b: [{ wildcard: 'd*f' }], c: [{ wildcard: 'xy*' }], d: [{ wildcard: 'xy*' }] },
    event: { a: 'abcbc', b: 'deeeef', c: 'xy', d: 'xyzzz' },
    match: true,
  },
  {
    name: 'wildcard d*f does not match deeeefx',
    source: 'event-ruler',
    pattern: { a: [{ wildcard: '*bc' }], b: [{ wildcard: 'd*f' }], c: [{ wildcard: 'xy*' }], d: [{ wildcard: 'xy*' }] },
    event: { a: 'abcbc', b: 'deeeefx', c: 'xy', d: 'xyzzz' },
    match: false,
  },
  { name: 'escaped star is literal', source: 'event-ruler', pattern: { a: [{ wildcard: 'a\\*b' }] }, event: { a: 'a*b' }, match: true },
  { name: 'escaped star is not a wildcard', source: 'event-ruler', pattern: { a: [{ wildcard: 'a\\*b' }] }, event: { a: 'axxb' }, match: false },
  { name: 'escaped backslash', source: 'event-ruler', pattern: { a: [{ wildcard: 'a\\\\*' }] }, event: { a: 'a\\xyz' }, match: true },
];

// WHEN_WeTryAnythingButRules_THEN_Theywork: one pattern, eight events, only the first matches.
export const ANYTHING_BUT_RULE = {
  a: [{ 'anything-but': ['dad0', 'dad1', 'dad2'] }],
  b: [{ 'anything-but': [111, 222, 333] }],
  c: [{ 'anything-but': 'zdd' }],
  d: [{ 'anything-but': 444 }],
  z: [{ numeric: ['>', 0, '<', 1] }],
  w: [{ 'anything-but': { prefix: 'zax' } }],
};
export const ANYTHING_BUT_EVENTS: [object, boolean][] = [
  [{ a: 'child1', b: '444', c: 'child1', d: 123, w: 'xaz', z: 0.001 }, true],
  [{ a: 'dad789', b: 789, c: 'zdd', d: 123, w: 'xaz', z: 0.001 }, false],
  [{ a: 'dad789', b: 789, c: 'child1', d: 123, w: 'xaz', z: 1.01 }, false],
  [{ a: 'dad1', b: 345, c: 'child1', d: 123, w: 'xaz', z: 0.001 }, false],
  [{ a: 'abc', b: 111, c: 'child1', d: 123, w: 'xaz', z: 0.001 }, false],
  [{ a: 'dad1', b: 333, c: 'child1', d: 123, w: 'xaz', z: 0.001 }, false],
  [{ a: 'abc', b: 0, c: 'child1', d: 444, w: 'xaz', z: 0.999999 }, false],
  [{ a: 'child1', b: '444', c: 'child1', d: 123, w: 'zaxonie', z: 0.001 }, false],
];

/**
 * event-ruler's src/test/resources/correctness-cases.json (rule, event). The file carries no expected
 * results (it checks two matchers against each other); these are the array-consistent answers.
 */
export const CORRECTNESS_CASES: [string, object, object, boolean][] = [
  ['flat: 2-field exists, both present', { d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: { a: 1, b: 2 } }, true],
  ['flat: 2-field exists, one missing', { d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: { a: 1 } }, false],
  ['flat: exact match', { d: { a: ['hello'], b: ['world'] } }, { d: { a: 'hello', b: 'world' } }, true],
  ['flat: exact mismatch', { d: { a: ['hello'], b: ['world'] } }, { d: { a: 'hello', b: 'nope' } }, false],
  ['flat: prefix', { d: { a: [{ prefix: 'hel' }] } }, { d: { a: 'hello' } }, true],
  ['flat: numeric range', { d: { x: [{ numeric: ['>', 0, '<', 100] }] } }, { d: { x: 50 } }, true],
  ['flat: anything-but', { d: { s: [{ 'anything-but': 'banned' }] } }, { d: { s: 'active' } }, true],
  ['objarray: same element', { d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: [{ a: 1, b: 2 }] }, true],
  ['objarray: split', { d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: [{ a: 1 }, { b: 2 }] }, false],
  ['objarray: 3 elem, last valid', { d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: [{ a: 1 }, { b: 2 }, { a: 3, b: 4 }] }, true],
  ['objarray: 3-field, all in one', { d: { a: [{ exists: true }], b: [{ exists: true }], c: [{ exists: true }] } }, { d: [{ a: 1, b: 2, c: 3 }] }, true],
  ['objarray: 3-field, split 3 ways', { d: { a: [{ exists: true }], b: [{ exists: true }], c: [{ exists: true }] } }, { d: [{ a: 1 }, { b: 2 }, { c: 3 }] }, false],
  ['objarray: exact same elem', { d: { name: ['alice'], status: ['active'] } }, { d: [{ name: 'alice', status: 'active' }] }, true],
  ['objarray: exact split', { d: { name: ['alice'], status: ['active'] } }, { d: [{ name: 'alice' }, { status: 'active' }] }, false],
  ['objarray: prefix same', { d: { name: [{ prefix: 'al' }], status: [{ exists: true }] } }, { d: [{ name: 'alice', status: 'ok' }] }, true],
  ['objarray: prefix split', { d: { name: [{ prefix: 'al' }], status: [{ exists: true }] } }, { d: [{ name: 'alice' }, { status: 'ok' }] }, false],
  ['primarray: exists', { d: { tags: [{ exists: true }], name: [{ exists: true }] } }, { d: { tags: ['a', 'b'], name: 'x' } }, true],
  ['primarray: exact match', { tags: ['admin'] }, { tags: ['user', 'admin'] }, true],
  ['primarray: no match', { tags: ['superadmin'] }, { tags: ['user', 'admin'] }, false],
  ['nested: inner same', { u: { t: { k: ['color'], v: ['blue'] } } }, { u: [{ t: [{ k: 'color', v: 'blue' }] }] }, true],
  ['nested: inner split', { u: { t: { k: ['color'], v: ['blue'] } } }, { u: [{ t: [{ k: 'color' }, { v: 'blue' }] }] }, false],
  ['nested: outer split', { d: { name: [{ exists: true }], info: { x: ['1'] } } }, { d: [{ name: 'alice' }, { info: { x: '1' } }] }, false],
  ['nested: outer same', { d: { name: [{ exists: true }], info: { x: ['1'] } } }, { d: [{ name: 'alice', info: { x: '1' } }] }, true],
  ['nested2: same leaf', { a: { b: { x: [{ exists: true }], y: [{ exists: true }] } } }, { a: [{ b: [{ x: 1, y: 2 }] }] }, true],
  ['nested2: split leaf', { a: { b: { x: [{ exists: true }], y: [{ exists: true }] } } }, { a: [{ b: [{ x: 1 }, { y: 2 }] }] }, false],
  ['mixed: array+scalar match', { users: { name: [{ exists: true }] }, version: ['1'] }, { users: [{ name: 'alice' }], version: '1' }, true],
  ['mixed: array+scalar fail', { users: { name: [{ exists: true }] }, version: ['2'] }, { users: [{ name: 'alice' }], version: '1' }, false],
  ['exists-false: absent', { d: { a: [{ exists: true }], b: [{ exists: false }] } }, { d: [{ a: 1 }] }, true],
  ['exists-false: present', { d: { a: [{ exists: true }], b: [{ exists: false }] } }, { d: [{ a: 1, b: 2 }] }, false],
  ['empty object', { d: { a: [{ exists: true }] } }, {}, false],
  ['empty array', { d: { a: [{ exists: true }] } }, { d: [] }, false],
  ['single-field rule', { d: { a: [{ exists: true }] } }, { d: [{ a: 1 }, { a: 2 }] }, true],
  ['many elem one valid', { d: { a: ['target'], b: ['found'] } }, { d: [{ a: 'x' }, { a: 'y' }, { a: 'target', b: 'found' }, { a: 'z' }] }, true],
  ['numeric+exists array', { i: { p: [{ numeric: ['>', 0, '<', 100] }], n: [{ exists: true }] } }, { i: [{ n: 'w', p: 50 }, { n: 'g', p: 200 }] }, true],
  ['anything-but array', { u: { s: [{ 'anything-but': 'banned' }], n: [{ exists: true }] } }, { u: [{ n: 'alice', s: 'banned' }, { n: 'bob', s: 'active' }] }, true],
  ['primarray: large + scalar, exists', { d: { tags: [{ exists: true }], type: [{ exists: true }] } }, { d: { tags: ['a', 'b', 'c'], type: 'GROUP' } }, true],
  ['primarray: large + scalar, prefix', { d: { tags: [{ prefix: 'ad' }], type: [{ exists: true }] } }, { d: { tags: ['admin', 'user', 'dev'], type: 'GROUP' } }, true],
  ['primarray: large + scalar, no match', { d: { tags: [{ prefix: 'super' }], type: [{ exists: true }] } }, { d: { tags: ['admin', 'user', 'dev'], type: 'GROUP' } }, false],
  ['primarray: nested under object', { detail: { data: { name: [{ exists: true }], type: [{ exists: true }] } } }, { detail: { data: { name: ['alice', 'bob'], type: 'GROUP' } } }, true],
  ['primarray: two prim arrays + scalar', { tags: [{ exists: true }], cats: [{ exists: true }], v: ['1'] }, { tags: ['a', 'b'], cats: ['x', 'y'], v: '1' }, true],
  ['primarray: exact match among many', { d: { name: ['target'], type: ['GROUP'] } }, { d: { name: ['a', 'b', 'target', 'c'], type: 'GROUP' } }, true],
  ['primarray: numeric in array', { d: { vals: [{ numeric: ['>', 0, '<', 10] }], type: [{ exists: true }] } }, { d: { vals: [100, 5, 200], type: 'ok' } }, true],
  ['primarray: anything-but in array', { d: { tags: [{ 'anything-but': 'banned' }], type: [{ exists: true }] } }, { d: { tags: ['banned', 'ok'], type: 'x' } }, true],
  ['primarray: single value array', { d: { name: [{ exists: true }], type: [{ exists: true }] } }, { d: { name: ['only'], type: 'x' } }, true],
  ['primarray: empty prim array', { d: { name: [{ exists: true }], type: [{ exists: true }] } }, { d: { name: [], type: 'x' } }, false],
  ['mixed: obj-array + prim-array', { users: { name: [{ exists: true }] }, tags: ['admin'] }, { users: [{ name: 'alice' }], tags: ['admin', 'user'] }, true],
  [
    'mixed: obj-array split + prim-array',
    { users: { name: [{ exists: true }], email: [{ exists: true }] }, tags: ['admin'] },
    { users: [{ name: 'alice' }, { email: 'b@x' }], tags: ['admin'] },
    false,
  ],
  ['deep prim: nested 3 levels', { a: { b: { c: { vals: [{ exists: true }], type: [{ exists: true }] } } } }, { a: { b: { c: { vals: ['x', 'y', 'z'], type: 'ok' } } } }, true],
  ['suffix match in array', { d: { name: [{ suffix: 'ice' }], type: [{ exists: true }] } }, { d: [{ name: 'alice', type: 'user' }] }, true],
  [
    'N emails, only last element has name',
    { detail: { email: [{ exists: true }], name: [{ exists: true }] } },
    { detail: [{ email: 'a@x' }, { email: 'b@x' }, { email: 'c@x' }, { email: 'd@x' }, { email: 'e@x', name: 'eve' }] },
    true,
  ],
  ['suffix match split', { d: { name: [{ suffix: 'ice' }], type: [{ exists: true }] } }, { d: [{ name: 'alice' }, { type: 'user' }] }, false],
];

/** event-ruler CIDRTest TestCorrectRanges: CIDR -> [bottom, top] (the bottom is the address as written). */
export const CIDR_RANGES: [string, string, string][] = [
  ['0011:2233:4455:6677:8899:aabb:ccdd:eeff/24', '00112233445566778899AABBCCDDEEFF', '001122FFFFFFFFFFFFFFFFFFFFFFFFFF'],
  ['2001:db8::ff00:42:8329/24', '20010DB8000000000000FF0000428329', '20010DFFFFFFFFFFFFFFFFFFFFFFFFFF'],
  ['::1/24', '00000000000000000000000000000001', '000000FFFFFFFFFFFFFFFFFFFFFFFFFF'],
  ['10.0.0.0/24', '0A000000', '0A0000FF'],
  ['54.240.196.171/24', '36F0C4AB', '36F0C4FF'],
  ['192.0.2.0/24', 'C0000200', 'C00002FF'],
  ['13.32.0.0/15', '0D200000', '0D21FFFF'],
  ['27.0.0.0/22', '1B000000', '1B0003FF'],
  ['52.76.128.0/17', '344C8000', '344CFFFF'],
  ['34.192.0.0/12', '22C00000', '22CFFFFF'],
  ['2400:6500:FF00::36FB:1F80/122', '24006500FF0000000000000036FB1F80', '24006500FF0000000000000036FB1FBF'],
  ['2600:9000::/28', '26009000000000000000000000000000', '2600900FFFFFFFFFFFFFFFFFFFFFFFFF'],
  ['2600:1F11::/36', '26001F11000000000000000000000000', '26001F110FFFFFFFFFFFFFFFFFFFFFFF'],
  ['2600:1F14::/35', '26001F14000000000000000000000000', '26001F141FFFFFFFFFFFFFFFFFFFFFFF'],
];

/** event-ruler CIDRTest SpotMalformedCIDRs. */
export const BAD_CIDRS = [
  '192.168.0.1/33',
  'foo',
  'foo/bar/baz',
  '192.168.0.1/foo',
  '192.168.0.1/-3424',
  'snorkle/3',
  '10.10.10.10.10/3',
  '2.1.0.-1/3',
  '2400:6500:3:3:3:3:3:3:3:3FF00::36FB:1F80/122',
  '2400:6500:3:3:-5:3:3:3:3:3FF00::36FB:1F80/122',
  '2400:6500:3:3:3:3:FFFFFFFFFFF:3:3:3FF00::36FB:1F80/122',
  '2400:6500:FF00::36FB:1F80/222',
];
