// Embedded clusters for tests: each in its own temp dir, closed and removed when the test ends
// (close first, then the directory).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { open, type Database, type OpenOptions } from '../../lib'

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
