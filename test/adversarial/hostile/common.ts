// Shared by the hostile submissions: where seclab is installed (any solution can find it from the
// kit it imports), and a starter-like audit.
export const seclabRoot = new URL('../../', import.meta.resolve('seclab/kit'));

export const emptyAudit = async () => ({ usersWithoutMfa: [], sharedCredentials: [], overBroadPolicies: [], suspiciousSourceIps: [] });

/** Runs `fn`, swallowing errors: a hostile submission tries everything. */
export async function attempt(what: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
    console.log(`hostile: ${what}: done`);
  } catch (e) {
    console.log(`hostile: ${what}: failed (${(e as Error).message})`);
  }
}
