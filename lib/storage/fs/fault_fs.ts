// FaultFs: a FileSystem over a real one (lib/storage/fs/file_system.ts) that remembers what a
// power cut would lose, and injects I/O errors. For tests only; pebble's vfs/errorfs and
// LevelDB's FaultInjectionTestEnv are the models.
//
// What it tracks:
//   - per file (opened for append through it): the length that is durable (appended and then
//     synced). `crash()` cuts every tracked file back to that length, or, with `torn`, to that
//     length plus a seeded random prefix of the unsynced tail (a torn write).
//   - per directory, creations, renames and unlinks not yet made durable by `syncDir`. `crash()`
//     undoes them, newest first: created files are removed, renames reversed (restoring a
//     replaced file's durable contents), unlinked files restored. Best effort: mkdirp is not
//     tracked, and a truncating open is taken as durable at once.
//
// Faults: `failNextSync(err)` fails the next file or directory sync (nothing is synced);
// `failWritesAfter(bytes, err)` lets `bytes` more appended bytes through (the append that
// crosses the limit writes its first part, like a short write), then fails every append with
// ENOSPC until `clearFaults()`.
//
// Appends go to the real file synchronously (the returned promise settles on a later
// microtask), so that no real write is ever in flight when `crash()` truncates a file. A sync
// in flight at a crash completes on a handle that is already dead and does not count.

import path from 'node:path'
import { makePrng, type Prng } from '../../util/prng'
import type { RandomAccessFile } from '../types'
import type { AppendFile, FileSystem } from './file_system'
import { RealFs } from './real_fs'

interface FileState {
  path: string
  durableLength: number
}

type DirOp =
  | { type: 'create'; dir: string; path: string }
  | { type: 'rename'; dir: string; from: string; to: string; displaced: Buffer | undefined }
  | { type: 'unlink'; dir: string; path: string; backup: Buffer }

export interface CrashOptions {
  /** Keep a random prefix of each file's unsynced tail (default false: cut at the synced length). */
  torn?: boolean
  /** Seed (or generator) for torn lengths. */
  seed?: number
  prng?: Prng
}

export function ioError(code: string, message = code): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${message} (injected by FaultFs)`)
  err.code = code
  return err
}

class FaultAppendFile implements AppendFile {
  dead = false
  private inflight = 0
  private closeWhenIdle = false

  constructor(private readonly fs: FaultFs, private readonly inner: AppendFile, readonly state: FileState) {}

  get path(): string {
    return this.state.path
  }

  get size(): number {
    return this.inner.size
  }

  async append(data: Uint8Array): Promise<void> {
    this.appendSync(data)
  }

  appendSync(data: Uint8Array): void {
    this.checkAlive()
    const allowed = this.fs.takeWriteBudget(data.length)
    if (allowed < data.length) {
      if (allowed > 0) this.inner.appendSync(data.subarray(0, allowed))
      throw this.fs.writeFault()
    }
    this.inner.appendSync(data)
  }

  async sync(): Promise<void> {
    this.checkAlive()
    const fault = this.fs.takeSyncFault()
    if (fault !== undefined) throw fault
    const target = this.inner.size
    this.inflight++
    try {
      await this.inner.sync()
    } finally {
      this.inflight--
      if (this.closeWhenIdle && this.inflight === 0) this.inner.closeSync()
    }
    this.checkAlive()
    this.state.durableLength = Math.max(this.state.durableLength, target)
  }

  syncSync(): void {
    this.checkAlive()
    const fault = this.fs.takeSyncFault()
    if (fault !== undefined) throw fault
    this.inner.syncSync()
    this.state.durableLength = Math.max(this.state.durableLength, this.inner.size)
  }

  async close(): Promise<void> {
    this.closeSync()
  }

  closeSync(): void {
    this.fs.forget(this)
    if (this.dead) return
    this.dead = true
    this.inner.closeSync()
  }

  /** The power cut: the handle is unusable; its descriptor closes once no sync is in flight. */
  kill(): void {
    if (this.dead) return
    this.dead = true
    if (this.inflight === 0) this.inner.closeSync()
    else this.closeWhenIdle = true
  }

  private checkAlive(): void {
    if (this.dead) throw ioError('EIO', `${this.state.path}: file handle closed or lost in a simulated power cut`)
  }
}

export class FaultFs implements FileSystem {
  /** Power cuts simulated so far. */
  crashes = 0
  private readonly files = new Map<string, FileState>()
  private readonly handles = new Set<FaultAppendFile>()
  private dirOps: DirOp[] = []
  private syncFault: Error | undefined
  private writeBudget = Infinity
  private writeError: Error | undefined

  constructor(readonly inner: FileSystem = new RealFs()) {}

  // ---- Fault injection ----

  failNextSync(err: Error = ioError('EIO', 'fsync failed')): void {
    this.syncFault = err
  }

  failWritesAfter(bytes: number, err: Error = ioError('ENOSPC', 'no space left on device')): void {
    this.writeBudget = bytes
    this.writeError = err
  }

  clearFaults(): void {
    this.syncFault = undefined
    this.writeBudget = Infinity
    this.writeError = undefined
  }

  /** Appended bytes of `p` that a crash now would lose. */
  unsyncedBytes(p: string): number {
    const st = this.files.get(path.resolve(p))
    if (st === undefined || !this.inner.exists(st.path)) return 0
    return Math.max(0, this.inner.size(st.path) - st.durableLength)
  }

  /** Directory operations not yet made durable by syncDir. */
  get unsyncedDirOps(): number {
    return this.dirOps.length
  }

  /**
   * Simulates a power cut and reboot: open append handles die; tracked files lose their
   * unsynced tails; unsynced directory operations are undone. Afterwards everything on disk
   * counts as durable, and faults are cleared.
   */
  crash(opts: CrashOptions = {}): void {
    this.crashes++
    const prng = opts.prng ?? makePrng(opts.seed ?? 0)
    for (const h of this.handles) h.kill()
    this.handles.clear()
    for (const st of this.files.values()) {
      if (!this.inner.exists(st.path)) continue
      const size = this.inner.size(st.path)
      if (size <= st.durableLength) continue
      const keep = opts.torn === true ? prng.int(size - st.durableLength + 1) : 0
      this.inner.truncate(st.path, st.durableLength + keep)
    }
    for (let i = this.dirOps.length - 1; i >= 0; i--) this.undo(this.dirOps[i]!)
    this.dirOps = []
    this.files.clear()
    this.clearFaults()
  }

  // ---- Hooks for FaultAppendFile ----

  /** How many of `n` bytes may be written now. */
  takeWriteBudget(n: number): number {
    const allowed = Math.min(n, this.writeBudget)
    this.writeBudget -= allowed
    return allowed
  }

  writeFault(): Error {
    return this.writeError ?? ioError('ENOSPC')
  }

  takeSyncFault(): Error | undefined {
    const f = this.syncFault
    this.syncFault = undefined
    return f
  }

  forget(h: FaultAppendFile): void {
    this.handles.delete(h)
  }

  // ---- FileSystem ----

  mkdirp(dir: string): void {
    this.inner.mkdirp(dir)
  }

  list(dir: string): string[] {
    return this.inner.list(dir)
  }

  exists(p: string): boolean {
    return this.inner.exists(p)
  }

  size(p: string): number {
    return this.inner.size(p)
  }

  readFile(p: string): Buffer {
    return this.inner.readFile(p)
  }

  openRead(p: string): RandomAccessFile {
    return this.inner.openRead(p)
  }

  lock(p: string): { release(): void } {
    return this.inner.lock(p)
  }

  openAppend(p: string, truncate: boolean): AppendFile {
    p = path.resolve(p)
    const existed = this.inner.exists(p)
    const inner = this.inner.openAppend(p, truncate)
    let st = this.files.get(p)
    if (st === undefined) {
      st = { path: p, durableLength: existed ? inner.size : 0 }
      this.files.set(p, st)
    }
    if (truncate) st.durableLength = 0
    if (!existed) this.dirOps.push({ type: 'create', dir: path.dirname(p), path: p })
    const h = new FaultAppendFile(this, inner, st)
    this.handles.add(h)
    return h
  }

  truncate(p: string, length: number): void {
    p = path.resolve(p)
    this.inner.truncate(p, length) // RealFs truncates and syncs
    const st = this.files.get(p)
    if (st !== undefined) st.durableLength = length
  }

  rename(from: string, to: string): void {
    from = path.resolve(from)
    to = path.resolve(to)
    const displaced = this.inner.exists(to) ? this.durableContents(to) : undefined
    this.inner.rename(from, to)
    const st = this.files.get(from)
    this.files.delete(from)
    this.files.delete(to)
    if (st !== undefined) {
      st.path = to
      this.files.set(to, st)
    }
    this.dirOps.push({ type: 'rename', dir: path.dirname(to), from, to, displaced })
  }

  unlink(p: string): void {
    p = path.resolve(p)
    if (!this.inner.exists(p)) return
    const backup = this.durableContents(p)
    this.inner.unlink(p)
    this.files.delete(p)
    this.dirOps.push({ type: 'unlink', dir: path.dirname(p), path: p, backup })
  }

  syncDir(dir: string): void {
    const fault = this.takeSyncFault()
    if (fault !== undefined) throw fault
    this.inner.syncDir(dir)
    const d = path.resolve(dir)
    this.dirOps = this.dirOps.filter((op) => op.dir !== d)
  }

  /** Through this FaultFs's own operations, so that each step can be lost or failed. */
  writeFileAtomic(p: string, data: Uint8Array): void {
    const tmp = `${p}.tmp`
    const f = this.openAppend(tmp, true)
    try {
      f.appendSync(data)
      f.syncSync()
    } finally {
      f.closeSync()
    }
    this.rename(tmp, p)
    this.syncDir(path.dirname(path.resolve(p)))
  }

  // ---- Power cut helpers ----

  /** What a crash now would leave of `p`: its synced prefix if tracked, else all of it. */
  private durableContents(p: string): Buffer {
    const data = this.inner.readFile(p)
    const st = this.files.get(p)
    return st === undefined ? data : Buffer.from(data.subarray(0, Math.min(data.length, st.durableLength)))
  }

  private undo(op: DirOp): void {
    switch (op.type) {
      case 'create':
        if (this.inner.exists(op.path)) this.inner.unlink(op.path)
        return
      case 'rename':
        if (this.inner.exists(op.to)) this.inner.rename(op.to, op.from)
        if (op.displaced !== undefined) this.restore(op.to, op.displaced)
        return
      case 'unlink':
        this.restore(op.path, op.backup)
        return
    }
  }

  private restore(p: string, data: Buffer): void {
    const f = this.inner.openAppend(p, true)
    f.appendSync(data)
    f.syncSync()
    f.closeSync()
  }
}
