/** A call refused by the gateway, with the HTTP status, code and message the real service would return. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Builds the protocol's full response when it needs more than code and message (AccessDenied). */
    readonly respond?: (requestId: string) => { status: number; headers: Record<string, string | string[]>; body: string | Buffer },
  ) {
    super(message);
  }
}
