// Lab host's reference host as a folder: a full copy of the Debian 12 image (mode 'copy') with the lab's
// reference user data (solutions/host/user-data.yaml, filled by solutions/host/user-data.ts userData())
// applied by seclab's user-data interpreter, as the instructor's "OpenSCAP and testssl.sh/sslyze side by
// side with your CIS engine and TLS prober on the same host" sees it. Two fresh ed25519 admin keys
// (makeAdmins), the company's home page (INDEX_HTML) and a server certificate for the site's name from
// the company CA (RSA 2048, chain = leaf + CA). Shared by test/cis/openscap.test.ts,
// test/tls/agreement.test.ts and bench/cis.ts.
//
// Expensive: the copy (about 0.5 GB) and the packages (nginx-light, nftables, apparmor, aide, ...
// fetched from Debian into seclab's package cache on first use, then installed by dpkg in bubblewrap):
// 40-60 s. Make it once per file.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HOST_NAME, INDEX_HTML, makeAdmins } from '../../labs/host/company.ts';
import { userData } from '../../solutions/host/user-data.ts';
import { cloneImage, imageForTests, imageStatus } from '../../src/host/image.ts';
import { applyUserData, probeExec, type ApplyResult } from '../../src/host/userdata/index.ts';
import { companyCa, issueServerCertificate } from '../../src/host/web/company-ca.ts';

export interface ReferenceRoot {
  /** The instance's root folder (a full copy of the image with the reference user data applied). */
  root: string;
  /** The company CA's bundle (trust it to verify the site's certificate). */
  caFile: string;
  /** The name the certificate is for (SNI and Host). */
  hostName: string;
  apply: ApplyResult;
  /** Copy and apply, ms. */
  cloneMs: number;
  applyMs: number;
  /** Removes the folder (root, CA). */
  cleanup(): void;
}

/**
 * Why the reference root cannot be made on this machine (the image is not built, bubblewrap does not
 * work: the packages and runcmd need it), or '' when it can.
 */
export async function referenceRootSkip(): Promise<string> {
  // Never builds the image (this may run at collection time): with SECLAB_BUILD_IMAGES=1 and no image,
  // makeReferenceRoot builds it, or says why it cannot.
  if (!(await imageStatus()).built && process.env.SECLAB_BUILD_IMAGES !== '1') {
    const img = await imageForTests();
    if ('skip' in img) return img.skip;
  }
  const p = probeExec();
  if (!p.ok) return `the reference user data installs packages and runs commands, which needs bubblewrap: ${p.detail}`;
  return '';
}

/**
 * Make the reference host's root folder. `dir`: where (a fresh temp folder when absent). Throws when the
 * image is missing (check referenceRootSkip() first) or when a module of the user data fails (apart
 * from what the solution documents as a model limit: aideinit, logged inside the instance).
 */
export async function makeReferenceRoot(o: { dir?: string; image?: string; log?: (l: string) => void } = {}): Promise<ReferenceRoot> {
  const log = o.log ?? (() => {});
  let image = o.image;
  if (!image) {
    const img = await imageForTests(log);
    if ('skip' in img) throw new Error(img.skip);
    image = img.path;
  }
  const work = o.dir ?? mkdtempSync(path.join(os.tmpdir(), 'seclab-reference-host-'));
  mkdirSync(work, { recursive: true });
  try {
    const ca = companyCa(path.join(work, 'company-ca'));
    const leaf = issueServerCertificate(ca, HOST_NAME);
    const { admins } = makeAdmins();
    const text = userData({ admins: admins.map((a) => ({ user: a.user, publicKey: a.publicKey })), indexHtml: INDEX_HTML, certChainPem: leaf.chainPem, keyPem: leaf.keyPem });
    const clone = await cloneImage(path.join(work, 'reference'), { image, mode: 'copy' });
    const apply = await applyUserData(clone.path, text, { instanceId: 'i-0fab00000000000a1', localHostname: 'ip-10-30-1-10', image, log: (l) => log(`[reference user data] ${l}`) });
    const bad = apply.modules.filter((m) => m.status === 'failed' || m.status === 'refused');
    if (bad.length) throw new Error(`the reference user data did not apply: ${bad.map((m) => `${m.module} ${m.status}: ${m.messages.join(' | ').slice(0, 600)}`).join('; ')}`);
    return {
      root: clone.path, caFile: ca.bundleFile, hostName: HOST_NAME, apply, cloneMs: clone.ms, applyMs: apply.ms,
      cleanup: () => { if (!o.dir) rmSync(work, { recursive: true, force: true }); else rmSync(path.join(work, 'reference'), { recursive: true, force: true }); },
    };
  } catch (e) {
    if (!o.dir) rmSync(work, { recursive: true, force: true });
    throw e;
  }
}
