import { ApiError, readLines, type ApiClient, type RemoteJob } from './api-client.js';

const FINAL = ['completed', 'failed', 'cancelled', 'undone', 'purged'];

/** Whether a job has reached the state the command waits for. */
export function isSettled(job: RemoteJob, waitForApply: boolean): boolean {
  if (FINAL.includes(job.state)) return true;
  // A plan with conflicts is never applied; one without stays planned unless apply was asked.
  return job.state === 'planned' && (!waitForApply || (job.plan?.conflicts ?? 0) > 0);
}

/**
 * Follows a job on the API's event stream until it settles, calling `onUpdate` with each fresh
 * record. Falls back to polling when the stream breaks (a proxy that drops it, an API restart).
 */
export async function followJob(
  client: ApiClient,
  id: string,
  waitForApply: boolean,
  onUpdate: (job: RemoteJob) => void,
): Promise<RemoteJob> {
  let job = await client.get(id);
  onUpdate(job);
  if (isSettled(job, waitForApply)) return job;
  try {
    const res = await client.fetch(`/v1/jobs/${encodeURIComponent(id)}/events`, { headers: { accept: 'text/event-stream' } });
    let data = '';
    for await (const line of readLines(res)) {
      if (line.startsWith('data:')) data += line.slice(5).trimStart();
      else if (line.startsWith(':') || line.startsWith('event:') || line.startsWith('id:')) continue;
      if (!line.startsWith('data:') || data === '') continue;
      let payload: Partial<RemoteJob> | undefined;
      try {
        payload = JSON.parse(data) as Partial<RemoteJob>;
      } catch {
        payload = undefined;
      }
      data = '';
      job =
        payload !== undefined && typeof payload.state === 'string' && payload.counters !== undefined
          ? (payload as RemoteJob)
          : await client.get(id);
      onUpdate(job);
      if (isSettled(job, waitForApply)) return job;
    }
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) throw e;
  }
  // The stream ended early or failed: poll until the job settles.
  for (;;) {
    job = await client.get(id);
    onUpdate(job);
    if (isSettled(job, waitForApply)) return job;
    await new Promise((r) => setTimeout(r, 250));
  }
}
