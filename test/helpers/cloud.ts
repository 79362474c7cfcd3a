// One lab cloud (real moto_server behind the real gateway) per test file.
import { afterAll, beforeAll } from 'vitest';
import { startLabCloud, type LabCloud } from '../../src/cloud/labcloud.ts';

export function useLabCloud(): { cloud: () => LabCloud } {
  let cloud: LabCloud | undefined;
  beforeAll(async () => {
    cloud = await startLabCloud();
  }, 120_000);
  afterAll(async () => {
    await cloud?.stop();
  });
  return {
    cloud: () => {
      if (!cloud) throw new Error('lab cloud not started');
      return cloud;
    },
  };
}
