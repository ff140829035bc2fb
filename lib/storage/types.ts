// The shared vocabulary of the storage engine's modules: entry kinds (FORMAT.md §1), the
// internal iterator contract every source (memtable, table, merge) implements, and the
// random-access file contract that both SSTable readers (mmap and pread) implement.

/** FORMAT.md §1. Numeric values are on disk: never renumber. */
export const Kind = {
  Del: 0,
  Put: 1,
  PutTtl: 2,
} as const
export type Kind = (typeof Kind)[keyof typeof Kind]

/** FORMAT.md §1 names, for dumps. */
export const kindNames: Readonly<Record<Kind, string>> = { 0: 'DEL', 1: 'PUT', 2: 'PUT_TTL' }

export function isKind(k: number): k is Kind {
  return k === 0 || k === 1 || k === 2
}

/** One version of one key. `value` is empty for Del; `expiresAtMs` is 0 unless kind is PutTtl. */
export interface Entry {
  key: Buffer
  seq: number
  kind: Kind
  expiresAtMs: number
  value: Buffer
}

/** Is this version visible (a live value) at wall-clock time `nowMs`? */
export function isLive(kind: Kind, expiresAtMs: number, nowMs: number): boolean {
  return kind === Kind.Put || (kind === Kind.PutTtl && expiresAtMs > nowMs)
}

/**
 * An ordered cursor over entries (key ascending, seq descending; or, when created reversed,
 * key descending, seq ascending). Direction is fixed at creation. Accessors are valid only
 * while `valid()`; the Buffers they return may be views into a table's mapping or a reused
 * scratch buffer: copy them to keep them past the next `next()`/`seek()`.
 */
export interface InternalIterator {
  /** Forward: first entry with key >= target. Reverse: last entry with key <= target. */
  seek(target: Buffer): void
  /** Forward: the first entry. Reverse: the last entry. */
  seekToStart(): void
  valid(): boolean
  next(): void
  key(): Buffer
  seq(): number
  kind(): Kind
  expiresAtMs(): number
  value(): Buffer
  close(): void
}

/**
 * A read-only file read at offsets. `read` returns `length` bytes at `offset`: a view into a
 * mapping (mmap reader) or a fresh buffer (pread reader); a view stays valid for as long as
 * any reference to it exists (lib/storage/mmap/README.md), but callers treat it as valid only
 * until the table that owns the file is released.
 */
export interface RandomAccessFile {
  readonly path: string
  readonly size: number
  read(offset: number, length: number): Buffer
  close(): void
}
