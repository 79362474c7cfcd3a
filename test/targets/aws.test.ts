import { describe, expect, it, vi } from 'vitest';
import { connectAws, runTag, runTagList, type StsFactory } from '../../src/cloud/targets/aws.ts';
import { SetupError } from '../../src/cloud/targets/errors.ts';

const ACCOUNT = '123456789012';

function fakeSts(identity: { Account?: string; Arn?: string } | Error): { factory: StsFactory; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    factory: ({ region }) => ({
      region: async () => region ?? 'eu-west-1',
      getCallerIdentity: async () => {
        calls++;
        if (identity instanceof Error) throw identity;
        return identity;
      },
    }),
  };
}

async function refusal(p: Promise<unknown>): Promise<SetupError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SetupError);
  return e as SetupError;
}

describe('connectAws refuses', () => {
  it('without an account id, before calling AWS', async () => {
    const sts = fakeSts({ Account: ACCOUNT });
    const e = await refusal(connectAws({ yes: true, sts: sts.factory }));
    expect(e.message).toMatch(/needs the id of the sandbox account/);
    expect(e.hint).toMatch(/--account-id/);
    expect(sts.calls()).toBe(0);
  });

  it.each(['12345678901', '1234567890123', 'abcdefghijkl', '1234-5678-9012'])('a malformed account id %s', async (id) => {
    const sts = fakeSts({ Account: ACCOUNT });
    const e = await refusal(connectAws({ accountId: id, yes: true, sts: sts.factory }));
    expect(e.message).toContain('12 digits');
    expect(sts.calls()).toBe(0);
  });

  it('without a terminal and without --yes, before calling AWS', async () => {
    const sts = fakeSts({ Account: ACCOUNT });
    const confirm = vi.fn(async () => true);
    const e = await refusal(connectAws({ accountId: ACCOUNT, interactive: false, confirm, sts: sts.factory }));
    expect(e.message).toMatch(/no terminal/);
    expect(e.hint).toMatch(/--yes/);
    expect(confirm).not.toHaveBeenCalled();
    expect(sts.calls()).toBe(0);
  });

  it('when the credentials belong to another account, showing both', async () => {
    const sts = fakeSts({ Account: '999988887777', Arn: 'arn:aws:iam::999988887777:user/alice' });
    const e = await refusal(connectAws({ accountId: ACCOUNT, yes: true, sts: sts.factory }));
    expect(e.message).toContain('999988887777');
    expect(e.message).toContain(ACCOUNT);
    expect(e.message).toContain('arn:aws:iam::999988887777:user/alice');
  });

  it('when there are no credentials', async () => {
    const err = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    const e = await refusal(connectAws({ accountId: ACCOUNT, yes: true, sts: fakeSts(err).factory }));
    expect(e.message).toMatch(/No usable AWS credentials/);
    expect(e.hint).toMatch(/aws sts get-caller-identity/);
  });

  it('when the user declines the confirmation', async () => {
    const confirm = vi.fn(async (_question: string) => false);
    const e = await refusal(connectAws({ accountId: ACCOUNT, interactive: true, confirm, sts: fakeSts({ Account: ACCOUNT, Arn: 'arn:aws:iam::123456789012:user/bob' }).factory }));
    expect(e.message).toMatch(/Cancelled/);
    expect(confirm).toHaveBeenCalledOnce();
    const question = confirm.mock.calls[0]![0];
    expect(question).toContain(ACCOUNT);
    expect(question).toContain('REAL AWS');
  });
});

describe('connectAws accepts', () => {
  it('a matching account after confirmation', async () => {
    const confirm = vi.fn(async () => true);
    const t = await connectAws({
      accountId: ACCOUNT,
      region: 'eu-central-1',
      interactive: true,
      confirm,
      sts: fakeSts({ Account: ACCOUNT, Arn: 'arn:aws:iam::123456789012:user/bob' }).factory,
    });
    expect(t).toMatchObject({ kind: 'aws', url: undefined, emulated: false, accountSelection: 'none', accountId: ACCOUNT, region: 'eu-central-1' });
    expect(t.description).toContain(ACCOUNT);
    await t.reset();
    await t.stop();
  });

  it('with --yes and no terminal, without asking', async () => {
    const confirm = vi.fn(async () => true);
    const t = await connectAws({ accountId: ACCOUNT, yes: true, interactive: false, confirm, sts: fakeSts({ Account: ACCOUNT }).factory });
    expect(t.accountId).toBe(ACCOUNT);
    expect(confirm).not.toHaveBeenCalled();
  });
});

describe('run tags', () => {
  it('carry the lab and run ids', () => {
    expect(runTag('iam', 'r-20250101-abc')).toEqual({ 'seclab:lab': 'iam', 'seclab:run': 'r-20250101-abc' });
    expect(runTagList('iam', 'r1')).toEqual([
      { Key: 'seclab:lab', Value: 'iam' },
      { Key: 'seclab:run', Value: 'r1' },
    ]);
  });
  it('refuse values AWS would reject', () => {
    expect(() => runTag('', 'r1')).toThrow(/lab id/);
    expect(() => runTag('iam', 'r#1')).toThrow(/run id/);
  });
});
