export function registerFallbackResolve(): void;
