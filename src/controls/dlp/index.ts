// DLP engine with Amazon Macie's managed data identifier semantics (work in progress: signatures are final).
import type { CustomDataIdentifier, Detection, ManagedIdentifier, ObjectScanResult, ScanOptions } from './types.ts';

export type * from './types.ts';

export const MANAGED_IDENTIFIERS: readonly ManagedIdentifier[] = [];

export function scanText(_text: string, _opts?: ScanOptions): Detection[] {
  throw new Error('dlp: scanText not implemented yet');
}

export async function scanObject(_name: string, _bytes: Uint8Array, _opts?: ScanOptions): Promise<ObjectScanResult> {
  throw new Error('dlp: scanObject not implemented yet');
}

export function testCustomDataIdentifier(_ci: Omit<CustomDataIdentifier, 'id' | 'name'> & { id?: string; name?: string }, _sampleText: string): number {
  throw new Error('dlp: testCustomDataIdentifier not implemented yet');
}
