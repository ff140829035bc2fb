// The systems under test behind one small interface, each configured as perf/README.md
// ("Engine benchmark") states: ringwood's Engine, lmdb-js and classic-level (LevelDB).

import fs from 'node:fs'
import path from 'node:path'
import { ClassicLevel } from 'classic-level'
import * as lmdb from 'lmdb'
import { Engine, type BatchOp, type Durability } from '../../lib/storage'
import { duBytes } from './measure'

export interface Seeker {
  /** The first entry at or after `key`: resolves its value (or undefined past the end). */
  seek(key: Buffer): Buffer | undefined | Promise<Buffer | undefined>
  close(): void | Promise<void>
}

export interface Store {
  readonly system: string
  readonly dir: string
  /** Writes the pairs as one atomic batch, or undefined when the system has no batch here. */
  batch?(keys: Buffer[], values: Buffer[], sync: boolean): Promise<unknown>
  put(key: Buffer, value: Buffer): Promise<unknown>
  /** Synchronous point read on the caller's thread, where the system has one. */
  getSync?(key: Buffer): Buffer | undefined
  get(key: Buffer): Promise<Buffer | undefined>
  getMany?(keys: Buffer[]): Promise<(Buffer | undefined)[]>
  /** Reads every entry in key order; returns the count. */
  scan(): Promise<number>
  seeker(): Seeker
  /** Full compaction (or nothing for a B-tree). */
  compactAll(): Promise<void>
  diskBytes(): number
  /** The system's own write amplification figure, if it exposes one. */
  writeAmplification(userBytes: number): number | undefined
  close(): Promise<void>
}

export async function openRingwood(dir: string, durability: Durability): Promise<Store> {
  const db = await Engine.open(dir, { durability })
  return {
    system: 'ringwood',
    dir,
    batch(keys, values, sync) {
      const ops: BatchOp[] = new Array(keys.length)
      for (let i = 0; i < keys.length; i++) ops[i] = { type: 'put', key: keys[i]!, value: values[i]! }
      return sync ? db.batch(ops, { sync: true }) : db.batch(ops)
    },
    put: (k, v) => db.put(k, v),
    getSync: (k) => db.getSync(k),
    get: (k) => db.get(k),
    async scan() {
      const it = db.iterator()
      let n = 0
      while (it.next() !== undefined) n++
      it.close()
      return n
    },
    seeker() {
      const it = db.iterator()
      return {
        seek(k) {
          it.seek(k)
          return it.next()?.value
        },
        close: () => it.close(),
      }
    },
    compactAll: () => db.compactAll(),
    diskBytes: () => duBytes(dir),
    writeAmplification: () => db.stats().writeAmplification,
    close: () => db.close(),
    // The engine itself, for stats in reports.
    ...({ engine: db } as object),
  }
}

/** The Engine behind a ringwood Store (for stats). */
export function engineOf(s: Store): Engine | undefined {
  return (s as unknown as { engine?: Engine }).engine
}

/**
 * lmdb-js. `noSync: true` (no fsync at all, the counterpart of ringwood's 'none'/'interval')
 * for fills and reads; `sync` opens it with overlappingSync off, so that a put's promise
 * resolves only after the commit that holds it is on disk (the counterpart of 'sync').
 */
export function openLmdb(dir: string, mode: 'nosync' | 'sync'): Store {
  const db = lmdb.open<Buffer, Buffer>({
    path: dir,
    keyEncoding: 'binary',
    encoding: 'binary',
    ...(mode === 'nosync' ? { noSync: true } : { overlappingSync: false }),
  })
  return {
    system: mode === 'nosync' ? 'lmdb' : 'lmdb (sync commits)',
    dir,
    put: (k, v) => db.put(k, v),
    getSync: (k) => (db as unknown as { getSync(k: Buffer): Buffer | undefined }).getSync(k),
    get: async (k) => db.get(k),
    async scan() {
      let n = 0
      for (const e of db.getRange({})) if (e.value !== undefined) n++
      return n
    },
    seeker() {
      return {
        seek(k) {
          for (const e of db.getRange({ start: k, limit: 1 })) return e.value
          return undefined
        },
        close() {},
      }
    },
    compactAll: async () => undefined,
    diskBytes: () => fs.statSync(path.join(dir, 'data.mdb')).size,
    writeAmplification: () => undefined,
    close: () => db.close(),
  }
}

/**
 * classic-level (LevelDB) with its defaults (4 MiB write buffer, 8 MiB block cache, Snappy on:
 * the values are incompressible). `sync` batches are written with { sync: true }.
 */
export async function openClassicLevel(dir: string, mode: 'nosync' | 'sync'): Promise<Store> {
  const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  const sync = mode === 'sync'
  return {
    system: sync ? 'classic-level (sync)' : 'classic-level',
    dir,
    batch(keys, values) {
      const ops: { type: 'put'; key: Buffer; value: Buffer }[] = new Array(keys.length)
      for (let i = 0; i < keys.length; i++) ops[i] = { type: 'put', key: keys[i]!, value: values[i]! }
      return db.batch(ops, { sync })
    },
    put: (k, v) => db.put(k, v, { sync }),
    get: (k) => db.get(k),
    getMany: (ks) => db.getMany(ks),
    async scan() {
      const it = db.iterator({ highWaterMarkBytes: 1000 * 256 })
      let n = 0
      for (;;) {
        const entries = await it.nextv(1000)
        if (entries.length === 0) break
        n += entries.length
      }
      await it.close()
      return n
    },
    seeker() {
      const it = db.iterator()
      return {
        async seek(k) {
          it.seek(k)
          const e = await it.next()
          return e?.[1]
        },
        close: () => it.close(),
      }
    },
    compactAll: () => db.compactRange(Buffer.alloc(0), Buffer.alloc(32, 0xff)),
    diskBytes: () => duBytes(dir),
    writeAmplification(userBytes) {
      // LevelDB's per-level "Write(MB)" (flushes and compactions) plus the log, estimated as
      // the user bytes (its log records add only a few bytes each).
      const stats = db.getProperty('leveldb.stats')
      let mb = 0
      for (const line of stats.split('\n')) {
        const cols = line.trim().split(/\s+/)
        if (cols.length === 6 && /^\d+$/.test(cols[0]!)) mb += Number(cols[5])
      }
      return (userBytes + mb * 1024 * 1024) / userBytes
    },
    close: () => db.close(),
  }
}
