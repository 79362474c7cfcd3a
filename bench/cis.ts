// CIS engine benchmark: `npm run bench:cis`. Scan times of the engine on the Debian 12 base image and on
// a copy hardened at file level and lab host's reference host (a full copy with solutions/host/user-data.yaml
// applied: test/host/reference-root.ts, needs bubblewrap), the cost of an instance copy of the image, and, when OpenSCAP and SSG's
// CIS Debian 12 data stream are installed, oscap-chroot's times and the agreement of the two tools on
// every recommendation both judge. Uses the cached image (SECLAB_BUILD_IMAGES=1 builds it).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scan } from '../src/controls/cis/index.ts';
import { compare, findCisDatastream, findOscapChroot, KNOWN_DIFFERENCES, oscapVersion, runOscap } from '../src/controls/cis/openscap.ts';
import { hardenCis } from '../src/host/harden.ts';
import { cloneImage, imageForTests, imageStatus, treeSize } from '../src/host/image.ts';
import { makeReferenceRoot, referenceRootSkip } from '../test/host/reference-root.ts';

const at = process.argv.indexOf('--rounds');
const rounds = at > 0 ? Math.max(1, Number(process.argv[at + 1]) || 5) : 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const img = await imageForTests((l) => process.stderr.write(`${l}\n`));
if ('skip' in img) {
  console.log(`bench:cis skipped: ${img.skip}`);
  process.exit(0);
}
const st = await imageStatus();
const m = st.manifest!;
console.log(`image ${img.path}: Debian 12 ${m.variant}, ${m.installedPackages} packages, ${(m.bytes / 2 ** 20).toFixed(0)} MiB in ${m.files} files, built in ${m.buildSeconds} s (debootstrap ${m.debootstrapVersion})`);

const work = mkdtempSync(path.join(os.tmpdir(), 'seclab-bench-cis-'));
try {
  for (const mode of ['link-usr', 'copy'] as const) {
    const c = await cloneImage(path.join(work, `clone-${mode}`), { image: img.path, mode });
    const own = mode === 'link-usr' ? await treeSize(path.join(c.path, 'etc')) : undefined;
    console.log(`instance copy (${mode.padEnd(8)}): ${String(c.ms).padStart(5)} ms${own ? ` (copied: everything but /usr; /usr hard-linked)` : ' (full copy; reflink where the file system supports it)'}`);
  }
  const hardened = path.join(work, 'clone-link-usr');
  const base = path.join(work, 'clone-copy'); // scanners read copies, never the cached image
  const files = await hardenCis(hardened);
  console.log(`hardening: ${files.length} files written`);
  const roots: [string, string][] = [['base', base], ['hardened', hardened]];
  const refSkip = await referenceRootSkip();
  if (refSkip) console.log(`reference host skipped: ${refSkip}`);
  else {
    const ref = await makeReferenceRoot({ dir: path.join(work, 'reference-host'), image: img.path });
    console.log(`reference host (lab host's reference user data): copy ${ref.cloneMs} ms, apply ${ref.applyMs} ms (${ref.apply.modules.map((x) => `${x.module} ${x.status}`).join(', ')})`);
    roots.push(['reference', ref.root]);
  }

  const oscap = findOscapChroot();
  const ds = findCisDatastream();
  console.log(oscap && ds ? `OpenSCAP ${oscapVersion()} with ${ds}` : `OpenSCAP comparison skipped: ${!oscap ? 'oscap-chroot not installed (apt-get install openscap-scanner)' : 'no data stream with the CIS Debian 12 profile (docs/host-scanning.md)'}`);
  console.log('');
  console.log('profile root       engine: median ms (rounds)  pass fail man  n/a | oscap ms | compared agree differ');
  for (const profile of ['level1-server', 'level2-server'] as const) for (const [name, root] of roots) {
    const times: number[] = [];
    let rep = scan(root, { profile });
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      rep = scan(root, { profile });
      times.push(performance.now() - t0);
    }
    const s = rep.summary;
    let tail = '';
    if (oscap && ds) {
      const o = await runOscap(root, findCisDatastream(profile) ?? ds, profile);
      const c = compare(rep, o.results);
      tail = ` | ${String(o.ms).padStart(8)} | ${String(c.compared).padStart(8)} ${String(c.agree).padStart(5)} ${String(c.disagree.length).padStart(6)}`;
      if (c.disagree.length) tail += `\n                   differences: ${c.disagree.map((d) => `${d.id} (engine ${d.ours}, oscap ${d.oscap}${KNOWN_DIFFERENCES[d.id] ? '' : ', UNEXPLAINED'})`).join(', ')}`;
    }
    console.log(`${profile.slice(0, 6)}  ${name.padEnd(10)} ${median(times).toFixed(0).padStart(14)} ms (${rounds})       ${String(s.pass).padStart(4)} ${String(s.fail).padStart(4)} ${String(s.manual).padStart(4)} ${String(s.notapplicable).padStart(4)}${tail}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
