import * as readline from 'node:readline';
import type { Readable } from 'node:stream';

/** The non-empty lines of a byte stream (a part file or object). */
export async function* linesOf(input: Readable): AsyncGenerator<string> {
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) if (line !== '') yield line;
}
