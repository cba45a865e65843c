import type { ServerResponse } from 'node:http';
import { FINAL_STATES, type ClusterContext, type EventHub, type JobRecord } from '@filer/jobs';

/** At most this many record reads (and events) per second per connection. */
const MIN_INTERVAL_MS = 250;
export const HEARTBEAT_MS = 15_000;

/** Whether a job's event stream is over: a final state, or planned with nothing to apply next. */
export function streamEnds(rec: JobRecord): boolean {
  if (FINAL_STATES.includes(rec.state)) return true;
  return rec.state === 'planned' && !(rec.spec.apply && (rec.plan?.conflicts ?? 0) === 0);
}

/**
 * One server-sent-events connection about one job. Redis pub/sub only nudges it: every nudge
 * (throttled) re-reads the live record and sends it — `record` first, then `state` when the
 * state changed and `progress` otherwise — and `end` after a state the job stays in.
 * A heartbeat comment every 15 s keeps proxies from closing the connection, and re-reads the
 * record in case a nudge was lost while Redis reconnected.
 */
export class JobEventStream {
  private closed = false;
  private pending = false;
  private lastRead = 0;
  private lastState: string | undefined;
  private lastJson = '';
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly ctx: ClusterContext,
    private readonly id: string,
    private readonly res: ServerResponse,
    private readonly onClose: (s: JobEventStream) => void,
    private readonly onError: (e: unknown) => void,
  ) {
    this.heartbeat = setInterval(() => {
      if (this.write(': heartbeat\n\n')) this.nudge();
    }, HEARTBEAT_MS);
    res.on('close', () => this.close());
  }

  /** Subscribes, then sends the current record (so no change between the two is missed). */
  async start(hub: EventHub): Promise<void> {
    const unsubscribe = await hub.listen(this.id, () => this.nudge());
    if (this.closed) return unsubscribe();
    this.unsubscribe = unsubscribe;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.write('retry: 5000\n\n');
    this.read('record');
  }

  /** Ends the stream from the server's side (shutdown). */
  end(reason: string): void {
    this.send('end', { reason });
    this.close();
  }

  private nudge(): void {
    if (this.pending || this.closed) return;
    this.pending = true;
    this.timer = setTimeout(() => this.read(), Math.max(0, this.lastRead + MIN_INTERVAL_MS - Date.now()));
  }

  /** Reads are chained, so events leave in the order the records were read. */
  private read(first?: 'record'): void {
    this.chain = this.chain.then(async () => {
      this.pending = false;
      if (this.closed) return;
      this.lastRead = Date.now();
      let rec: JobRecord | undefined;
      try {
        rec = await this.ctx.store.getLive(this.id);
      } catch (e) {
        this.onError(e);
        return; // Redis is away: the next nudge or heartbeat tries again
      }
      if (this.closed) return;
      if (rec === undefined) return this.end('the job record is gone');
      const json = JSON.stringify(rec);
      if (first === undefined && json === this.lastJson) return;
      const type = first ?? (rec.state !== this.lastState ? 'state' : 'progress');
      this.lastJson = json;
      this.lastState = rec.state;
      this.send(type, json);
      if (streamEnds(rec)) {
        this.send('end', { state: rec.state });
        this.close();
      }
    });
  }

  private send(event: string, data: string | object): void {
    this.write(`event: ${event}\nid: ${++this.seq}\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  }

  private write(text: string): boolean {
    if (this.closed || this.res.writableEnded || !this.res.headersSent) return false;
    this.res.write(text);
    return true;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.timer);
    this.unsubscribe?.();
    if (!this.res.writableEnded) this.res.end();
    this.onClose(this);
  }
}
