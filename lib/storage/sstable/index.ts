// lib/storage/sstable: SSTables (FORMAT.md §3) — building, reading, iterating, dumping.
import { openTableFile, type OpenTableFileOptions } from '../mmap/index'
import { TableReader } from './table_reader'

export { TableBuilder, type TableBuilderOptions, type TableBuildResult } from './table_builder'
export { TableReader, type TableReaderStats } from './table_reader'
export { TableGetResult } from './block_get'
export type { TableProperties } from './table_properties'
export { dumpSstable, dumpSstableLines } from './dump'
export { tableFormatVersion } from './footer'

/** Opens the SSTable at `path` through mmap or pread (lib/storage/mmap/index.ts rules). */
export function openTable(path: string, options: OpenTableFileOptions = {}): TableReader {
  return TableReader.open(openTableFile(path, options))
}
