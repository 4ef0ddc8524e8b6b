// What the recording library needs of wherever files live. Two implementations share one
// contract (tests/recordings.test.ts): a local folder and a Blob container (src/storage/).
// Every write is conditional on the version the writer read, so concurrent writers never
// overwrite each other blindly: the loser re-reads, merges and tries again.

export interface StoredFile {
  text: string;
  /** Opaque; changes on every write (an ETag for blobs). */
  version: string;
}

export interface RecordingStore {
  /** For messages, e.g. `folder .recording`. */
  readonly name: string;
  /** Every recording file (`*.yaml`) with its current version. */
  list(): Promise<Map<string, string>>;
  read(file: string): Promise<StoredFile | undefined>;
  /**
   * Writes `text` only if the file is still at `ifVersion` (undefined: only if it does not exist).
   * Returns the new version, or undefined when another writer changed the file first.
   */
  write(file: string, text: string, ifVersion: string | undefined): Promise<string | undefined>;
}
