// Build (or rebuild with --force) the host lab's base image: npx tsx src/host/build.ts [--variant ec2|minbase] [--force]
import { buildImage, ImageBuildError } from './image.ts';

const argv = process.argv.slice(2);
const variant = argv.includes('--variant') ? argv[argv.indexOf('--variant') + 1] : undefined;
try {
  const s = await buildImage({ variant, force: argv.includes('--force'), log: (l) => process.stderr.write(l + '\n') });
  process.stdout.write(JSON.stringify({ path: s.path, ...s.manifest, packages: undefined }, null, 2) + '\n');
} catch (e) {
  if (e instanceof ImageBuildError) {
    process.stderr.write(`error: ${e.message}\n${e.fix ? `fix: ${e.fix}\n` : ''}`);
    process.exit(3);
  }
  throw e;
}
