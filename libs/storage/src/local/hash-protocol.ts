import type { DupeFile, HashAlgorithm, HashOutcome, HashScope } from '@filer/engine';

export type ToHashWorker = { batch: number; files: DupeFile[]; scope: HashScope };
export type FromHashWorker = { batch: number; outcomes: HashOutcome[]; bytesRead: number };
export interface HashWorkerInit {
  algorithm: HashAlgorithm;
  follow: boolean;
  native: boolean;
}
