// Lambda's deployment package quotas (AWS Lambda quotas: 50 MB zipped for a direct upload, 250 MB
// unzipped), checked from the zip's own directory before anything is inflated, so that a zip bomb
// never reaches the lab cloud's memory or disk.
import { unzipSync } from 'fflate';

export const ZIPPED_LIMIT = 50 * 1024 * 1024;
export const UNZIPPED_LIMIT = 262_144_000;

export interface PackageProblem {
  status: number;
  code: string;
  message: string;
}

/** Why AWS would refuse this package, or undefined when it is acceptable. */
export function packageProblem(zip: Uint8Array): PackageProblem | undefined {
  if (zip.length > ZIPPED_LIMIT) {
    return { status: 413, code: 'RequestEntityTooLargeException', message: `Request must be smaller than ${ZIPPED_LIMIT} bytes for the CreateFunction operation` };
  }
  let total = 0;
  let files = 0;
  try {
    // The filter sees each entry's declared size before it is inflated; declining every entry reads
    // only the central directory. fflate inflates into a buffer of the declared size, so the declared
    // sizes bound what unpacking can take.
    unzipSync(zip, {
      filter: (f) => {
        total += f.originalSize;
        files++;
        return false;
      },
    });
  } catch (e) {
    return { status: 400, code: 'InvalidParameterValueException', message: `Could not unzip uploaded file. Please check your file, then try to upload again. (${(e as Error).message})` };
  }
  if (total > UNZIPPED_LIMIT) {
    return { status: 400, code: 'InvalidParameterValueException', message: `Unzipped size must be smaller than ${UNZIPPED_LIMIT} bytes` };
  }
  if (files > 20_000) return { status: 400, code: 'InvalidParameterValueException', message: 'The package holds too many files' };
  return undefined;
}
