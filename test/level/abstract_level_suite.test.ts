// abstract-level's own conformance suite (node_modules/abstract-level/test), run with tape against
// RingwoodLevel, on the root database and again on a sublevel. Every factory call gets a fresh
// directory under os.tmpdir(); all of them are removed when the suite finishes. tape prints TAP,
// which tap parses when it runs this file as a subprocess.
//
// The sublevel pass builds each database as `factory().sublevel('test')` and closes only the
// sublevel, so every parent stays open. The engine's lock table holds at most 256 open data
// directories per process (lib/storage/mmap/mmap.c, LOCKS_MAX), which the ~750 parents of that
// pass would exhaust. So when a test ends, a parent made here whose sublevels are all closed (and
// which nothing else can reach) is closed too.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import tape from 'tape'
import { RingwoodLevel } from '../../lib/level'

interface Closable {
  readonly status: string
  close(): Promise<void>
}
type TestFn = (t: tape.Test) => unknown
type Suite = (options: { test: (name: string, fn: TestFn) => void; factory: (options?: Record<string, unknown>) => unknown }) => void

// eslint-disable-next-line @typescript-eslint/no-require-imports
const suite = require('abstract-level/test') as Suite

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-level-suite-'))
let dirs = 0
const parents: { db: RingwoodLevel; sublevels: Closable[] }[] = []

function factory(options?: Record<string, unknown>): RingwoodLevel {
  // durability 'none': the suite proves the adapter, not fsync (test/storage covers durability).
  const db = new RingwoodLevel(path.join(root, String(dirs++)), { durability: 'none', ...options })
  const entry = { db, sublevels: [] as Closable[] }
  const sublevel = db.sublevel.bind(db) as (name: string, options?: object) => Closable
  Object.assign(db, {
    sublevel(name: string, opts?: object): Closable {
      const s = sublevel(name, opts)
      entry.sublevels.push(s)
      return s
    },
  })
  parents.push(entry)
  return db
}

/** Closes parents whose sublevels were all closed: only the sublevel pass's own parents qualify. */
async function closeOrphanedParents(): Promise<void> {
  for (let i = parents.length - 1; i >= 0; i--) {
    const { db, sublevels } = parents[i]!
    if (db.status === 'closed') {
      parents.splice(i, 1)
    } else if (sublevels.length > 0 && sublevels.every((s) => s.status === 'closed') && db.status === 'open') {
      parents.splice(i, 1)
      await db.close()
    }
  }
}

function test(name: string, fn: TestFn): void {
  tape(name, (t) => {
    t.teardown(closeOrphanedParents)
    return fn(t)
  })
}

suite({ test, factory })

const removeRoot = (): void => fs.rmSync(root, { recursive: true, force: true })
tape.onFinish(removeRoot)
process.on('exit', removeRoot) // also when the suite dies early
