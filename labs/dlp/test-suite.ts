// STUB (being written): the student's DLP test suite, graded by mutation.
import type { Check } from '../../src/engine/types.ts';

export const testSuiteChecks: Check[] = [];
