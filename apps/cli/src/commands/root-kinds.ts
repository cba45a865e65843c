import { invalidArgument } from '@filer/core';
import { checkLocalRoots, isS3Uri, parseS3Uri } from '@filer/storage';

/**
 * Roots are all local or all S3. Local roots are checked at once; S3 roots are only parsed here
 * (bucket and prefix are checked once the S3 client is loaded).
 */
export function checkRootKinds(roots: readonly string[], command: string): void {
  const remote = roots.filter(isS3Uri);
  if (remote.length === 0) return checkLocalRoots(roots);
  if (remote.length < roots.length) {
    const local = roots.find((r) => !isS3Uri(r))!;
    throw invalidArgument('roots', local, `cannot mix local and S3 roots in one ${command} ('${local}' and '${remote[0]}'): run one each`);
  }
  for (const r of roots) parseS3Uri(r, 'roots');
}
