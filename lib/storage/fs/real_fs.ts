// The FileSystem of lib/storage/fs/file_system.ts over node:fs, synchronous where the engine's
// thread must not yield (recovery, manifest edits) and asynchronous for the commit log's
// appends and syncs (libuv's thread pool, so group commit overlaps I/O with new writes).

import fs from 'node:fs'
import path from 'node:path'
import { KvError } from '../../errors'
import { lockedDirectoriesMax } from '../../constants'
import { native } from '../mmap/native'
import type { RandomAccessFile } from '../types'
import type { AppendFile, FileSystem } from './file_system'

class RealAppendFile implements AppendFile {
  private fd: number
  size: number

  constructor(readonly path: string, truncate: boolean) {
    this.fd = fs.openSync(path, truncate ? 'w' : 'a')
    this.size = truncate ? 0 : fs.fstatSync(this.fd).size
  }

  append(data: Uint8Array): Promise<void> {
    this.size += data.length
    return writeAll(this.fd, data)
  }

  appendSync(data: Uint8Array): void {
    let off = 0
    while (off < data.length) off += fs.writeSync(this.fd, data, off, data.length - off)
    this.size += data.length
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fdatasync(this.fd, (err) => (err ? reject(err) : resolve())))
  }

  syncSync(): void {
    fs.fdatasyncSync(this.fd)
  }

  close(): Promise<void> {
    const fd = this.fd
    this.fd = -1
    return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())))
  }

  closeSync(): void {
    if (this.fd >= 0) fs.closeSync(this.fd)
    this.fd = -1
  }
}

function writeAll(fd: number, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (off: number): void => {
      fs.write(fd, data, off, data.length - off, null, (err, n) => {
        if (err) return reject(err)
        if (off + n < data.length) return step(off + n)
        resolve()
      })
    }
    step(0)
  })
}

/** Positional reads: every `read` is one pread into a fresh buffer. */
export class PreadFile implements RandomAccessFile {
  private fd: number
  readonly size: number

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'r')
    this.size = fs.fstatSync(this.fd).size
  }

  read(offset: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length)
    let got = 0
    while (got < length) {
      const n = fs.readSync(this.fd, out, got, length - got, offset + got)
      if (n === 0) break
      got += n
    }
    return got === length ? out : out.subarray(0, got)
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd)
    this.fd = -1
  }
}

export class RealFs implements FileSystem {
  mkdirp(dir: string): void {
    fs.mkdirSync(dir, { recursive: true })
  }

  list(dir: string): string[] {
    return fs.readdirSync(dir)
  }

  exists(p: string): boolean {
    return fs.existsSync(p)
  }

  size(p: string): number {
    return fs.statSync(p).size
  }

  readFile(p: string): Buffer {
    return fs.readFileSync(p)
  }

  openAppend(p: string, truncate: boolean): AppendFile {
    return new RealAppendFile(p, truncate)
  }

  openRead(p: string): RandomAccessFile {
    return new PreadFile(p)
  }

  truncate(p: string, length: number): void {
    const fd = fs.openSync(p, 'r+')
    try {
      fs.ftruncateSync(fd, length)
      fs.fdatasyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  }

  rename(from: string, to: string): void {
    fs.renameSync(from, to)
  }

  unlink(p: string): void {
    fs.rmSync(p, { force: true })
  }

  syncDir(dir: string): void {
    const fd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  }

  writeFileAtomic(p: string, data: Uint8Array): void {
    const tmp = `${p}.tmp`
    const fd = fs.openSync(tmp, 'w')
    try {
      let off = 0
      while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off)
      fs.fdatasyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, p)
    this.syncDir(path.dirname(p))
  }

  lock(p: string): { release(): void } {
    return native !== undefined ? flockLock(p) : pidFileLock(p)
  }

  /** Drops a lock this process holds for a holder that died (see Engine.breakLock). */
  breakLock(p: string): void {
    if (native !== undefined) native.unlock(p)
    else fs.rmSync(p, { force: true })
  }
}

function lockedError(p: string, by: string): KvError {
  return new KvError('KV_LOCKED', `${path.dirname(p)} is already open (${by}); close the other engine first`, { file: p })
}

function flockLock(p: string): { release(): void } {
  let status: number
  try {
    status = native!.lock(p)
  } catch (err) {
    if (/Too many open files/.test((err as Error).message)) {
      throw new KvError('KV_OVERLOADED', `this process already holds ${lockedDirectoriesMax} open Ringwood directories; close one first`, { file: p, limit: lockedDirectoriesMax })
    }
    throw new KvError('KV_IO_ERROR', `cannot lock ${p}: ${(err as Error).message}`, { file: p }, { cause: err })
  }
  if (status === 1) throw lockedError(p, 'by another engine in this process')
  if (status === 2) throw lockedError(p, 'by another process')
  return { release: () => void native!.unlock(p) }
}

/** Without the addon: an exclusive-create pid file; a file whose process is gone is stale. */
function pidFileLock(p: string): { release(): void } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(p, `${process.pid}\n`, { flag: 'wx' })
      return { release: () => fs.rmSync(p, { force: true }) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number.parseInt(fs.readFileSync(p, 'utf8'), 10)
      if (pid === process.pid || processAlive(pid)) throw lockedError(p, `by process ${pid}`)
      fs.rmSync(p, { force: true })
    }
  }
  throw lockedError(p, 'lock file could not be taken')
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
