import { FilerError, type JobSpec } from '@filer/core';
import { normalizeRoot, parseKeepRule } from '@filer/engine';
import { admitPath, admitRootDir, isS3Uri } from '@filer/storage';

const refuse = (field: string, value: string, message: string): FilerError =>
  new FilerError('E_INVALID_ARGUMENT', `${field}: ${message}`, { field, value });

/**
 * The action options of a dupes job, checked as `filer dupes --action` checks its flags, against
 * the job's resolved roots: local roots only, every keep rule compiled, every reference root
 * resolved and one of the roots (not all of them), --move-to resolved inside the allowed roots.
 * The resolved reference roots and directory replace the ones given.
 */
export function admitDedupe(spec: JobSpec, allowedRoots: readonly string[]): void {
  const o = spec.options;
  if (spec.kind !== 'dupes' || o.action === undefined) return;
  const s3 = spec.roots.findIndex(isS3Uri);
  if (s3 >= 0) throw refuse(`roots.${s3}`, spec.roots[s3], `action ${o.action} acts on local files only; an S3 root is not one`);
  (o.keep ?? []).forEach((rule, i) => {
    try {
      parseKeepRule(rule);
    } catch (e) {
      throw refuse(`options.keep.${i}`, rule, e instanceof Error ? e.message : String(e));
    }
  });
  if (o.reference !== undefined) {
    o.reference = o.reference.map((r, i) => {
      const field = `options.reference.${i}`;
      const real = normalizeRoot(admitRootDir(r, allowedRoots, field));
      if (!spec.roots.includes(real))
        throw refuse(field, r, 'is not one of the roots: a reference root is searched too, so name it in roots as well');
      return real;
    });
    if (spec.roots.every((r) => o.reference!.includes(r)))
      throw refuse('options.reference', o.reference.join(','), 'every root is a reference root: nothing could be acted on');
  }
  if (o.moveTo !== undefined) o.moveTo = admitPath(o.moveTo, allowedRoots, 'options.moveTo', { mustExist: false });
}
