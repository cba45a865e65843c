import type { ListingPage, PagedSource } from '@filer/core';

/**
 * A paged source that lists nothing for the given directories (prefixes): a shard re-run walks
 * its tasks again without the subtrees it already handed to child shards. The walk still counts
 * each skipped directory as visited; `skipped` says how many to take back.
 */
export class SkippingSource implements PagedSource {
  skipped = 0;

  constructor(
    private readonly inner: PagedSource,
    private readonly skip: ReadonlySet<string>,
  ) {}

  async *listPages(dirPath: string): AsyncGenerator<ListingPage> {
    if (this.skip.has(dirPath)) {
      this.skipped++;
      return;
    }
    yield* this.inner.listPages(dirPath);
  }

  join(dirPath: string, name: string): string {
    return this.inner.join(dirPath, name);
  }
}
