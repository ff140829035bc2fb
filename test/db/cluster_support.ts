// Embedded clusters for tests: each in its own temp dir, closed and removed when the test ends
// (close first, then the directory).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { isKvError, open, type Database, type OpenOptions } from '../../lib'

export interface Teardown {
  teardown(fn: () => unknown): void
}

export async function testCluster(t: Teardown, opts: Partial<OpenOptions> = {}): Promise<Database> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-cluster-'))
  let db: Database | undefined
  t.teardown(async () => {
    await db?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  db = await open({ dir, nodes: 4, partitions: 16, durability: 'none', ...opts })
  return db
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Sorted string forms of replica values. */
export const strs = (b: readonly Buffer[] | undefined): string[] | undefined => b?.map((x) => x.toString()).sort()

export interface WriteLoad {
  /** Acknowledged writes: key -> value. */
  readonly acked: Map<string, string>
  /** Writes that failed with a KvError (a timeout or too few replicas). */
  failed(): number
  /** Stops the writers and waits for their last writes. */
  stop(): Promise<void>
}

/**
 * `writers` concurrent writers of fresh keys (`w<writer>-<seq>` = `v-<key>`), each up to
 * `perWriter` writes, until stopped; a failure other than a KvError fails the test.
 */
export function writeLoad(db: Database, writers: number, perWriter: number): WriteLoad {
  const acked = new Map<string, string>()
  let failed = 0
  let seq = 0
  let stopped = false
  const writer = async (w: number): Promise<void> => {
    for (let i = 0; !stopped && i < perWriter; i++) {
      const key = `w${w}-${seq++}`
      try {
        await db.set(key, `v-${key}`)
        acked.set(key, `v-${key}`)
      } catch (err) {
        if (!isKvError(err)) throw err
        failed++
      }
    }
  }
  const running = Promise.all(Array.from({ length: writers }, (_, w) => writer(w)))
  return {
    acked,
    failed: () => failed,
    stop: async () => {
      stopped = true
      await running
    },
  }
}

/** The acknowledged keys whose read with R = `r` does not return the acknowledged value. */
export async function missingReads(db: Database, acked: ReadonlyMap<string, string>, r = 2): Promise<string[]> {
  const missing: string[] = []
  for (const [k, v] of acked) if ((await db.get(k, { r }))?.value.toString() !== v) missing.push(k)
  return missing
}
