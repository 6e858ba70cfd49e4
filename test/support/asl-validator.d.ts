/** asl-validator ships no types; this is the part of its API the tests call. */
declare module 'asl-validator' {
  interface Result {
    readonly isValid: boolean;
    readonly errors: readonly Record<string, unknown>[];
    errorsText(separator?: string): string;
  }
  function validator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): Result;
  export = validator;
}
