// lib/storage/mmap: how SSTables are read. `openTableFile` maps the file (MmapFile) unless the
// caller or RINGWOOD_READER=pread asks for positional reads, or the native addon did not build
// (then it warns once and falls back to PreadFile). Both implement RandomAccessFile.

import { PreadFile } from '../fs/real_fs'
import type { RandomAccessFile } from '../types'
import { MmapFile } from './mmap_file'
import { native, warnNativeMissing } from './native'

export { MmapFile } from './mmap_file'
export { native, nativeMissingReason, warnNativeMissing } from './native'

export type TableFileReader = 'mmap' | 'pread'

export interface OpenTableFileOptions {
  /** Overrides RINGWOOD_READER; default mmap. */
  reader?: TableFileReader
}

/** Which reader openTableFile would use for these options (after the env var and the addon). */
export function chooseReader(options: OpenTableFileOptions = {}): TableFileReader {
  const asked = options.reader ?? (process.env['RINGWOOD_READER'] === 'pread' ? 'pread' : 'mmap')
  if (asked === 'pread') return 'pread'
  if (native === undefined) {
    warnNativeMissing()
    return 'pread'
  }
  return 'mmap'
}

export function openTableFile(path: string, options: OpenTableFileOptions = {}): RandomAccessFile {
  return chooseReader(options) === 'mmap' ? new MmapFile(path, native!) : new PreadFile(path)
}
