import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { ALL_QUEUES, type ClusterContext } from '@filer/jobs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Bull Board over the cluster's three queues at /admin/queues, read-only: Filer's own resume,
 * retry and finalize logic owns every shard, so a retry, promote, clean, remove, pause or add
 * from the board is refused (405 `ERRORS.QUEUE_READ_ONLY`; "pause all" and "resume all" skip
 * read-only queues) and its buttons are hidden. It is a Fastify plugin beside Nest's routes, so
 * Nest's guard does not see it: the browser-page hook (auth/browser-auth.ts) asks for the admin
 * scope on every route under this path.
 */
export async function registerBullBoard(app: NestFastifyApplication, ctx: ClusterContext): Promise<void> {
  const serverAdapter = new BullBoardFastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: ALL_QUEUES.map((name) => new BullMQAdapter(ctx.queues[name], { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Filer queues' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
}
