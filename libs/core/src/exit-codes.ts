/** Process exit codes of the CLI contract. */
export const ExitCode = {
  Ok: 0,
  PartialFailure: 1,
  InvalidInput: 2,
  Aborted: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
