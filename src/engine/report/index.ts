// Reporters: grade records (JSON), signing, JUnit XML, Gradescope, CSV gradebook, feedback files, text.
export * from './record.ts';
export * from './sign.ts';
export * from './junit.ts';
export * from './gradescope.ts';
export * from './csv.ts';
export * from './feedback.ts';
export * from './text.ts';
export * from './style.ts';
export * from './html.ts';
