// Loads Ringwood's native addon (lib/storage/mmap/mmap.c, built by `npm install` through
// binding.gyp) once per thread. If it did not build, `native` is undefined: the engine then
// reads SSTables with positional reads and locks directories with a pid file, and says so
// once per process (the warning names the reason).

import { existsSync } from 'node:fs'
import path from 'node:path'
import { isMainThread } from 'node:worker_threads'

export interface NativeAddon {
  map(fd: number, length: number): ArrayBuffer
  advise(buffer: ArrayBuffer, advice: 'random' | 'sequential' | 'willneed' | 'normal'): void
  /** 0 = taken; 1 = held elsewhere in this process; 2 = held by another process. */
  lock(path: string): 0 | 1 | 2
  unlock(path: string): boolean
  /** MADV_HUGEPAGE on the whole pages of a view (a SharedArrayBuffer's too); true if taken. Absent from an addon built before it. */
  hugePages?(view: ArrayBufferView): boolean
}

function packageRoot(): string {
  let dir = __dirname
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'binding.gyp'))) return dir
    dir = path.dirname(dir)
  }
  return path.join(__dirname, '..', '..', '..', '..')
}

function load(): { addon: NativeAddon | undefined; reason: string } {
  const file = path.join(packageRoot(), 'build', 'Release', 'ringwood_mmap.node')
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { addon: require(file) as NativeAddon, reason: '' }
  } catch (err) {
    return { addon: undefined, reason: `${file}: ${(err as Error).message.split('\n')[0]}` }
  }
}

const loaded = load()
export const native: NativeAddon | undefined = loaded.addon
export const nativeMissingReason: string = loaded.reason

let warned = false
/** Prints, once per process (main thread), that the addon is missing and what replaces it. */
export function warnNativeMissing(): void {
  if (native !== undefined || warned || !isMainThread) return
  warned = true
  process.emitWarning(
    `Ringwood's native addon is not available (${nativeMissingReason}); SSTables are read with ` +
      'positional reads instead of mmap, and directory locks use a pid file. Run `npm rebuild ringwood` to build it.',
    { code: 'RINGWOOD_NO_ADDON' },
  )
}
