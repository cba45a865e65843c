import type {
  ApplyOptions,
  ApplyReport,
  DedupeGroupInput,
  DupeGroup,
  JobRecord,
  Journal,
  PurgeReport,
  purgeDedupeJob,
  UndoOptions,
} from '@filer/engine';

/** Where a dedupe job's files are, and the use cases over them: describe the groups, apply, undo, purge. */
export interface DedupeStore {
  /**
   * Each group's files (objects) with identity and root; `given` the roots as walked, `real` as
   * resolved. Local files are described lazily, a group as it is read (the plan streams); S3
   * objects are HEAD-ed together beforehand.
   */
  describe(groups: readonly DupeGroup[], given: readonly string[], real: readonly string[]): Promise<Iterable<DedupeGroupInput>>;
  apply(job: JobRecord, journal: Journal, opts: ApplyOptions): Promise<ApplyReport>;
  undo(job: JobRecord, journal: Journal, opts: UndoOptions): Promise<ApplyReport>;
  purge(job: JobRecord, journal: Journal, opts: Parameters<typeof purgeDedupeJob>[3]): Promise<PurgeReport>;
  close(): void;
}
