// A seeded randomized test of the whole API against a model of what each acknowledged
// operation allows, with node crashes (worker terminated) and graceful stops injected.
//
// The model, per key (one logical client, operations one at a time, R = W = 2, N = 3):
// - `last`: the value of the last acknowledged set (undefined after an acknowledged delete);
// - `maybe`: values of writes that failed (KV_TIMEOUT / KV_UNAVAILABLE): they may or may
//   not have been applied, and may surface as siblings later. A delete that failed may have
//   been applied too: its tombstone may hide `last` (failedSinceAck).
// - `ghosts`: acknowledged values superseded by a write whose context came from a set (not
//   a get). PROTOCOL.md §4.4 documents that such a context's dot only discards a sibling the
//   coordinating replica already holds: after a crash moved coordination to a replica that
//   had not received the old write, the old value comes back as a (false) sibling. Never a
//   lost write; a write with a get's context covers it.
// A get returns only values written to its key (nothing invented). While nodes are down, it
// may miss `last` or return a superseded value: under a sloppy quorum the W acknowledgements may come from
// fallbacks that hold hints, and R = 2 of the primaries need not intersect them until the hints
// are delivered (Dynamo §4.6) — such stale reads are counted, not failed. After every node is
// back and the hints are drained, a get with R = ALL of every key must return only values in
// {last} ∪ maybe ∪ ghosts, and `last` whenever no set or delete of the key failed since it
// (an acknowledged write is never lost). Each write carries the context of the client's last
// successful operation on the key. RINGWOOD_SEED=<seed> replays the same operations (their
// outcomes still depend on timing).

import t from 'tap'
import { isKvError, type Database } from '../../lib'
import { makePrng, seedFromEnv } from '../../lib/util'
import { sleep, testCluster } from './cluster_support'
import { soakBudget } from '../support/tmp'

interface KeyModel {
  last: string | undefined
  maybe: Set<string>
  ghosts: Set<string>
  context: Buffer | undefined
  /** Every value ever written to the key (a get never returns anything else). */
  written: Set<string>
  /** Values the get whose context we hold returned; undefined when the context came from a set. */
  seen: string[] | undefined
  failedSinceAck: boolean
  /** The key's last operations and outcomes, for a violation's message. */
  history: string[]
}

function record(m: KeyModel, what: string): void {
  m.history.push(what)
  if (m.history.length > 8) m.history.shift()
}

t.test('randomized API run against the model, with crashes', async (tt) => {
  const seed = seedFromEnv()
  tt.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const rnd = makePrng(seed)
  const db: Database = await testCluster(tt, { durability: 'interval', replicaTimeoutMs: 300, timeoutMs: 2_000 })
  const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`)
  const model = new Map<string, KeyModel>(keys.map((k) => [k, { last: undefined, maybe: new Set(), ghosts: new Set(), context: undefined, written: new Set(), seen: undefined, failedSinceAck: false, history: [] }]))
  let n = 0
  let failures = 0
  let failedDeletes = 0
  let crashes = 0
  let falseSiblings = 0
  let staleReads = 0
  const violations: string[] = []
  const { until, steps } = soakBudget(20_000, 1_500)
  for (let step = 0; step < steps && Date.now() < until; step++) {
    const roll = rnd.int(100)
    if (roll < 2) {
      const id = 1 + rnd.int(4)
      const restart = rnd.bool() // drawn whether or not the crash happens: the seed fixes the operations
      if ((await db.admin.nodes()).every((x) => x.up && !x.stopped)) {
        crashes++
        await db.admin.crashNode(id)
        if (restart) await db.admin.startNode(id)
      }
      continue
    }
    if (roll < 4) {
      for (const x of db.admin.nodes()) if (!x.stopped) await db.admin.startNode(x.id)
      continue
    }
    const key = keys[rnd.int(keys.length)]!
    const m = model.get(key)!
    try {
      if (roll < 50) {
        const g = await db.get(key)
        const got = (g?.siblings ?? []).map(String).sort()
        for (const v of got) if (!m.written.has(v)) violations.push(`step ${step}: get ${key} returned ${v}, never written to it`)
        const allowed = new Set([...(m.last === undefined ? [] : [m.last]), ...m.maybe, ...m.ghosts])
        if (got.some((v) => !allowed.has(v)) || (!m.failedSinceAck && m.last !== undefined && !got.includes(m.last))) staleReads++
        falseSiblings += got.filter((v) => m.ghosts.has(v)).length
        if (g !== undefined) {
          m.context = g.context
          m.seen = got
        }
        record(m, `get [${got.join()}]`)
      } else if (roll < 90) {
        const v = `v${n++}`
        m.written.add(v)
        const opts = m.context === undefined ? {} : { context: m.context }
        try {
          const r = await db.set(key, v, opts)
          acknowledged(m, v, r.context)
          record(m, `set ${v}`)
        } catch (err) {
          m.maybe.add(v)
          m.failedSinceAck = true
          record(m, `set ${v} failed: ${isKvError(err) ? err.code : String(err)}`)
          throw err
        }
      } else {
        const opts = m.context === undefined ? {} : { context: m.context }
        try {
          const r = await db.delete(key, opts)
          acknowledged(m, undefined, r.context)
          record(m, 'delete')
        } catch (err) {
          record(m, `delete failed: ${isKvError(err) ? err.code : String(err)}`)
          // Like a failed set, a failed delete may have been applied: its tombstone may hide
          // `last` after the drain.
          m.failedSinceAck = true
          failedDeletes++
          throw err
        }
      }
    } catch (err) {
      if (!isKvError(err) || !['KV_TIMEOUT', 'KV_UNAVAILABLE'].includes(err.code)) throw err
      failures++
    }
  }
  for (const x of db.admin.nodes()) await db.admin.startNode(x.id)
  await db.admin.drainHints({ timeoutMs: 20_000 })
  for (const key of keys) {
    const m = model.get(key)!
    const got = ((await db.get(key, { level: 'ALL' }))?.siblings ?? []).map(String).sort()
    const allowed = new Set([...(m.last === undefined ? [] : [m.last]), ...m.maybe, ...m.ghosts])
    const history = `(last operations: ${m.history.join('; ')})`
    for (const v of got) if (!allowed.has(v)) violations.push(`after drain: get ${key} returned ${v}, allowed ${[...allowed].join(',')} ${history}`)
    if (!m.failedSinceAck && m.last !== undefined && !got.includes(m.last)) violations.push(`after drain: get ${key} = [${got.join()}] lost ${m.last} ${history}`)
  }
  tt.comment(`${n} sets, ${failures} failed operations (${failedDeletes} deletes), ${crashes} crashes, ${falseSiblings} false siblings (§4.4), ${staleReads} stale reads while nodes were down`)
  tt.same(violations.slice(0, 10), [], `no model violations (seed ${seed})`)
  await sleep(10)
})

/** An acknowledged write of `value` (undefined: a delete) with the model's context. */
function acknowledged(m: KeyModel, value: string | undefined, context: Buffer): void {
  if (m.seen === undefined) {
    if (m.last !== undefined) m.ghosts.add(m.last)
  } else {
    // A get's context (a version vector) covers everything that get returned.
    for (const v of m.seen) {
      m.ghosts.delete(v)
      m.maybe.delete(v)
    }
    if (m.last !== undefined && !m.seen.includes(m.last)) m.ghosts.add(m.last)
  }
  m.last = value
  m.context = context
  m.seen = undefined
  m.failedSinceAck = false
}
