/** Where a manifest is written: a new file, or a new object (openManifestOut chooses). */
export interface ManifestOut {
  /** Writes the manifest whole; never over something already there. */
  write(text: string): Promise<void>;
  close(): void;
}
