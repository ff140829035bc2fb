// The filesystem seam of the storage engine. Everything the engine's own thread writes (commit
// log, manifest, CURRENT, LOCK) goes through a FileSystem, so that tests can substitute a
// fault-injecting one that loses unsynced writes at a simulated power cut
// (lib/storage/fs/fault_fs.ts). SSTables are written by compaction workers straight to disk and
// synced before the manifest names them, so a power cut can only orphan them.

import type { RandomAccessFile } from '../types'

/** A file opened for appending. Writes reach the OS in order; `sync` makes them durable. */
export interface AppendFile {
  readonly path: string
  /** Bytes appended so far (including any that were there when opened). */
  readonly size: number
  append(data: Uint8Array): Promise<void>
  appendSync(data: Uint8Array): void
  /** fdatasync: every byte appended before the call is durable when it resolves. */
  sync(): Promise<void>
  syncSync(): void
  close(): Promise<void>
  closeSync(): void
}

export interface FileSystem {
  mkdirp(dir: string): void
  /** Names (not paths) of the entries of `dir`. */
  list(dir: string): string[]
  exists(path: string): boolean
  /** The file's size in bytes. */
  size(path: string): number
  readFile(path: string): Buffer
  /** Opens for append, creating the file if needed (truncating it when `truncate`). */
  openAppend(path: string, truncate: boolean): AppendFile
  /** Opens for positional reads (the pread reader; mmap uses the real descriptor). */
  openRead(path: string): RandomAccessFile
  truncate(path: string, length: number): void
  rename(from: string, to: string): void
  unlink(path: string): void
  /** Makes directory entries (creations, renames, deletions) in `dir` durable. */
  syncDir(dir: string): void
  /**
   * Writes `data` to `path` atomically and durably: a temp file, synced, renamed over `path`,
   * then the directory synced.
   */
  writeFileAtomic(path: string, data: Uint8Array): void
  /** Takes an exclusive advisory lock; throws KV_LOCKED if another holder has it. */
  lock(path: string): { release(): void }
}
