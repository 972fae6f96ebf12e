// Why `pallet serve` refuses a request about runs, by kind, so that each protocol front end
// answers with its own error (A2A: TaskNotFound, InvalidParams...; MCP: a tool error).
export type RefusalKind = 'not_found' | 'invalid' | 'conflict' | 'unavailable';

export class RunRequestError extends Error {
  override readonly name = 'RunRequestError';
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
  }
}
