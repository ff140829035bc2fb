// Where background jobs run: a piscina pool shared by every engine of this thread (threads are
// created on demand, at most compactionThreadsMax, and exit when idle), or inline on the
// caller's thread for tests and tools. Results cross the thread boundary by structured clone,
// which turns Buffers into Uint8Arrays; `revive` turns them back.

import path from 'node:path'
import { Piscina } from 'piscina'
import { compactionThreadsMax } from '../../constants'
import type { TableMeta } from '../version/version_edit'
import { runTask, type JobResult, type Task } from './jobs'

export interface JobRunner {
  run(task: Task): Promise<JobResult>
}

let shared: Piscina | undefined
let users = 0

/** A runner on the shared pool; call `release()` when the engine closes. */
export function pooledRunner(): JobRunner & { release(): Promise<void> } {
  if (shared === undefined) {
    shared = new Piscina({
      filename: path.join(__dirname, 'worker.js'),
      minThreads: 0,
      maxThreads: compactionThreadsMax,
      idleTimeout: 2000,
    })
  }
  users++
  const pool = shared
  let released = false
  return {
    run: async (task) => revive((await pool.run(task)) as JobResult),
    release: async () => {
      if (released) return
      released = true
      if (--users === 0 && shared === pool) {
        // Not awaited: closing an engine need not wait for idle threads to exit.
        shared = undefined
        void pool.destroy()
      }
    },
  }
}

export const inlineRunner: JobRunner = {
  run: async (task) => runTask(task),
}

function revive(r: JobResult): JobResult {
  const buf = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength))
  r.tables = r.tables.map((t: TableMeta) => ({ ...t, smallest: buf(t.smallest), largest: buf(t.largest) }))
  return r
}
