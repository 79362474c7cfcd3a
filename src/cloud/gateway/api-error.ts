/** A call refused by the gateway, with the HTTP status, code and message the real service would return. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}
