import { ExitCode, type FileEntry } from '@filer/core';
import { formatRecord, RecordWriter, sortEntries } from '@filer/engine';
import { checkS3Roots, createS3Client, s3ConfigFromEnv, s3FilterNotes, walkS3 } from '@filer/storage/s3';
import { reportPathFailure, type CliContext } from '../cli-context.js';
import { BrokenPipe } from '../stdout-writer.js';
import type { FindPlan } from './find-plan.js';

/** Bytes of formatted records gathered before one write to stdout. */
const FLUSH_AT = 64 * 1024;

/**
 * `filer find s3://bucket/prefix/…`: the roots are checked (bucket there, prefix listable), then
 * listed with the engine's paged walk, 16 prefixes at once, and printed as `s3://bucket/key` in
 * the same formats as a local find. Streams unless --sort or --limit asks otherwise.
 */
export async function runS3Find(plan: FindPlan, ctx: CliContext, opts: { quiet: boolean }): Promise<number> {
  const client = createS3Client(s3ConfigFromEnv());
  try {
    await checkS3Roots(client, plan.roots);
    if (!opts.quiet) for (const note of s3FilterNotes(plan.spec)) ctx.stderr(`filer: note: ${note}\n`);
    const writer = new RecordWriter(plan.format, ctx.stdout);
    const collected: FileEntry[] = [];
    let pending = '';
    let emitted = 0;
    let errors = 0;
    let stop = false;
    const flush = (): void => {
      if (pending === '') return;
      const text = pending;
      pending = '';
      writer.chunk(text);
    };
    writer.begin();
    if (plan.limit === 0) {
      writer.end();
      return ExitCode.Ok;
    }
    try {
      await walkS3(client, {
        roots: plan.roots,
        spec: plan.spec,
        shouldStop: () => stop,
        onEntry: (e) => {
          if (plan.sort !== undefined) return void collected.push(e);
          if (stop) return;
          pending += formatRecord(e, plan.format, plan.nul);
          emitted++;
          if (plan.limit !== undefined && emitted >= plan.limit) stop = true;
          if (pending.length >= FLUSH_AT || stop) flush();
        },
        onError: (e) => {
          errors++;
          if (!opts.quiet) reportPathFailure(ctx, e);
        },
      });
      flush();
      if (plan.sort !== undefined) {
        sortEntries(collected, plan.sort);
        const rows = plan.limit === undefined ? collected : collected.slice(0, plan.limit);
        for (let i = 0; i < rows.length; i += 4096)
          writer.chunk(
            rows
              .slice(i, i + 4096)
              .map((e) => formatRecord(e, plan.format, plan.nul))
              .join(''),
          );
      }
      writer.end();
    } catch (e) {
      if (!(e instanceof BrokenPipe)) throw e;
    }
    return errors > 0 ? ExitCode.PartialFailure : ExitCode.Ok;
  } finally {
    client.destroy();
  }
}
