// The lab registry, loaded once per process, with errors as usage errors.
import { loadLabs } from '../engine/labs.ts';
import type { Lab } from '../engine/types.ts';
import { EnvironmentError, UsageError } from './errors.ts';

let cache: Promise<Lab[]> | undefined;

export function allLabs(): Promise<Lab[]> {
  cache ??= loadLabs().catch((e: Error) => {
    cache = undefined;
    throw new EnvironmentError(`the labs could not be loaded: ${e.message}`, 'Is this a complete seclab installation? Try `npm install`.');
  });
  return cache;
}

export async function labIdsOf(): Promise<string[]> {
  return (await allLabs()).map((l) => l.id);
}

export async function findLabSafe(id: string): Promise<Lab> {
  const labs = await allLabs();
  const lab = labs.find((l) => l.id === id) ?? labs.find((l) => String(l.slide) === id);
  if (!lab) {
    const near = labs.filter((l) => l.id.startsWith(id.slice(0, 2)) || id.includes(l.id)).map((l) => l.id);
    throw new UsageError(`no lab "${id}". Labs: ${labs.map((l) => `${l.id} (slide ${l.slide})`).join(', ')}`, near.length ? `did you mean ${near.join(' or ')}?` : 'see `seclab list`');
  }
  return lab;
}
