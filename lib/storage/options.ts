// Engine options: what a caller may set, the defaults, and validation against the hard limits
// in lib/constants.ts. Unknown options are KV_INVALID_ARGUMENT: a typo must not silently fall
// back to a default.

import * as C from '../constants'
import { invalidArgument } from '../errors'
import type { Clock } from '../util/clock'
import { systemClock } from '../util/clock'
import type { FileSystem } from './fs/file_system'

export type Durability = 'none' | 'interval' | 'sync'
export type ReaderKind = 'mmap' | 'pread'

export interface EngineOptions {
  /** When a write is acknowledged (lib/storage/DESIGN.md, write path). Default `interval`. */
  durability?: Durability
  /** Memtable size that triggers a flush. Default 32 MiB. */
  memtableBytes?: number
  /** Target data block size. Default 4 KiB. */
  blockBytes?: number
  /** Bloom filter bits per key; 10 gives ~1 % false positives. Default 10. */
  bloomBitsPerKey?: number
  /** How SSTables are read; default mmap (or env RINGWOOD_READER). */
  reader?: ReaderKind
  /** Skip damaged commit-log records at open instead of failing; see `repairReport`. */
  repair?: boolean
  /** Compaction output throttle, bytes per second; 0 = unthrottled. */
  compactionBytesPerSec?: number
  /** Run flush and compaction in a worker pool (default) or inline on the engine's thread. */
  compactionInline?: boolean
  /** Create the directory if it does not exist. Default true. */
  createIfMissing?: boolean
  /** Fail if the directory already holds a database. Default false. */
  errorIfExists?: boolean
  /** Injected for tests: the filesystem and the clock. */
  fs?: FileSystem
  clock?: Clock
}

export interface ResolvedOptions {
  durability: Durability
  memtableBytes: number
  blockBytes: number
  bloomBitsPerKey: number
  reader: ReaderKind
  repair: boolean
  compactionBytesPerSec: number
  compactionInline: boolean
  createIfMissing: boolean
  errorIfExists: boolean
  fs: FileSystem | undefined
  clock: Clock
}

const known = new Set<string>([
  'durability', 'memtableBytes', 'blockBytes', 'bloomBitsPerKey', 'reader', 'repair',
  'compactionBytesPerSec', 'compactionInline', 'createIfMissing', 'errorIfExists', 'fs', 'clock',
])

/** Option names that belong to other layers (e.g. abstract-level) and are ignored here. */
export function resolveOptions(o: EngineOptions = {}, ignore: ReadonlySet<string> = new Set()): ResolvedOptions {
  if (o === null || typeof o !== 'object') throw invalidArgument('options must be an object')
  for (const k of Object.keys(o)) {
    if (!known.has(k) && !ignore.has(k)) throw invalidArgument(`unknown engine option '${k}'`, { option: k })
  }
  const durability = o.durability ?? 'interval'
  if (!['none', 'interval', 'sync'].includes(durability)) {
    throw invalidArgument(`durability must be 'none', 'interval' or 'sync', got '${String(durability)}'`)
  }
  const envReader = process.env['RINGWOOD_READER']
  const reader = o.reader ?? (envReader === 'pread' || envReader === 'mmap' ? envReader : 'mmap')
  if (reader !== 'mmap' && reader !== 'pread') throw invalidArgument(`reader must be 'mmap' or 'pread'`)
  return {
    durability,
    memtableBytes: int(o.memtableBytes, C.memtableBytesDefault, C.memtableBytesMin, C.memtableBytesMax, 'memtableBytes'),
    blockBytes: int(o.blockBytes, C.blockBytesDefault, 256, 1024 * 1024, 'blockBytes'),
    bloomBitsPerKey: int(o.bloomBitsPerKey, C.bloomBitsPerKeyDefault, 0, C.bloomBitsPerKeyMax, 'bloomBitsPerKey'),
    reader,
    repair: bool(o.repair, false, 'repair'),
    compactionBytesPerSec: int(o.compactionBytesPerSec, C.compactionBytesPerSecDefault, 0, Number.MAX_SAFE_INTEGER, 'compactionBytesPerSec'),
    compactionInline: bool(o.compactionInline, false, 'compactionInline'),
    createIfMissing: bool(o.createIfMissing, true, 'createIfMissing'),
    errorIfExists: bool(o.errorIfExists, false, 'errorIfExists'),
    fs: o.fs,
    clock: o.clock ?? systemClock,
  }
}

function int(v: number | undefined, def: number, min: number, max: number, name: string): number {
  if (v === undefined) return def
  if (!Number.isInteger(v) || v < min || v > max) {
    throw invalidArgument(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`, { option: name })
  }
  return v
}

function bool(v: boolean | undefined, def: boolean, name: string): boolean {
  if (v === undefined) return def
  if (typeof v !== 'boolean') throw invalidArgument(`${name} must be a boolean`, { option: name })
  return v
}
