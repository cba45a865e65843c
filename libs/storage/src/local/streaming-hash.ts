import { createHash } from 'node:crypto';
import type { HashAlgorithm } from '@filer/engine';

/** One digest computed over chunks: `init` starts again, so an instance serves many files in turn. */
export interface StreamingHash {
  readonly algorithm: HashAlgorithm;
  init(): void;
  update(data: Uint8Array): void;
  digest(): string;
}

/** A reusable streaming hash of the chosen algorithm (local files and S3 objects hash alike). */
export async function createStreamingHash(algorithm: HashAlgorithm): Promise<StreamingHash> {
  if (algorithm === 'sha256') {
    let h = createHash('sha256');
    return { algorithm, init: () => (h = createHash('sha256')), update: (d) => void h.update(d), digest: () => h.digest('hex') };
  }
  // Loaded on first use: a run that hashes nothing (or only sha256) never loads the wasm module.
  const { createXXHash128 } = await import('hash-wasm');
  const x = await createXXHash128();
  return { algorithm, init: () => void x.init(), update: (d) => void x.update(d), digest: () => x.digest('hex') };
}

/** Digests of zero bytes, so a run that hashes nothing never loads a hash implementation. */
export const EMPTY_DIGESTS: Record<HashAlgorithm, string> = {
  xxh128: '99aa06d3014798d86001c324468d497f',
  sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
};
