// Lab dlp (being written).
import type { LabInput } from 'seclab/kit';

export async function apply(_input: LabInput): Promise<void> {}
