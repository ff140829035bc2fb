// A seeded model test of garbage compaction (DESIGN.md, "Garbage compaction"): mostly TTL
// puts and deletes over few keys, clock jumps that let tables expire, flushes and reopens, and
// a snapshot held across them whose reads must keep seeing the values of its time. Checked
// against Maps after every read. Reproduce a failure with RINGWOOD_SEED=<seed printed below>.

import t from 'tap'
import { Engine, type Snapshot } from '../../lib/storage'
import { ManualClock } from '../../lib/util/clock'
import { makePrng, seedFromEnv } from '../../lib/util/prng'
import { tempDir } from '../support/tmp'

const steps = 2000
/** Few keys: versions of one key in several level-0 tables, which a garbage compaction must move together. */
const keys = 60

interface Held {
  snapshot: Snapshot
  model: Map<string, { value: string; expiresAtMs: number }>
}

async function run(t: { fail(m: string): void; teardown(fn: () => void): void }, seed: number): Promise<number> {
  const r = makePrng(seed)
  const dir = tempDir(t)
  const clock = new ManualClock()
  const inline = r.bool(0.5)
  const open = (): Promise<Engine> => Engine.open(dir, { clock, memtableBytes: 64 * 1024, blockBytes: 512, compactionInline: inline, durability: 'none' })
  let e = await open()
  let garbageCompactions = 0
  const model = new Map<string, { value: string; expiresAtMs: number }>()
  const key = (): string => `key${String(r.int(keys)).padStart(4, '0')}`
  // TTLs are judged at read time, snapshot or not.
  const live = (m: Map<string, { value: string; expiresAtMs: number }>, k: string): string | undefined => {
    const x = m.get(k)
    return x !== undefined && (x.expiresAtMs === 0 || x.expiresAtMs > clock.nowMs()) ? x.value : undefined
  }
  const idle = async (): Promise<void> => {
    while (e.stats().backgroundBusy) await new Promise((resolve) => setImmediate(resolve))
  }
  let held: Held | undefined
  for (let step = 0; step < steps; step++) {
    const p = r.next()
    if (p < 0.45) {
      const k = key()
      const value = `v${step}-${'x'.repeat(r.int(150))}`
      const ttl = r.bool(0.8) ? r.range(1, 1000) : undefined
      await e.put(k, value, ttl === undefined ? undefined : { ttlMs: ttl })
      model.set(k, { value, expiresAtMs: ttl === undefined ? 0 : clock.nowMs() + ttl })
    } else if (p < 0.6) {
      const k = key()
      await e.del(k)
      model.delete(k)
    } else if (p < 0.75) {
      const k = key()
      const got = e.getSync(k)?.toString()
      if (got !== live(model, k)) t.fail(`seed ${seed} step ${step}: get ${k} = ${got}, expected ${live(model, k)}`)
    } else if (p < 0.8) {
      if (held === undefined) held = { snapshot: e.snapshot(), model: new Map(model) }
      else {
        for (let i = 0; i < 20; i++) {
          const k = key()
          const got = e.getSync(k, { snapshot: held.snapshot })?.toString()
          if (got !== live(held.model, k)) t.fail(`seed ${seed} step ${step}: get ${k} at the snapshot = ${got}, expected ${live(held.model, k)}`)
        }
        if (r.bool(0.3)) {
          held.snapshot.release()
          held = undefined
        }
      }
    } else if (p < 0.9) {
      clock.advance(r.int(1500))
      await idle()
    } else if (p < 0.98) {
      await e.flush()
      await idle()
    } else if (p < 0.99) {
      await e.compactAll()
    } else {
      held?.snapshot.release()
      held = undefined
      garbageCompactions += e.stats().garbageCompactions
      await e.close()
      e = await open()
    }
  }
  await idle()
  for (let i = 0; i < keys; i++) {
    const k = `key${String(i).padStart(4, '0')}`
    if (e.getSync(k)?.toString() !== live(model, k)) t.fail(`seed ${seed}: final state differs at ${k}`)
  }
  garbageCompactions += e.stats().garbageCompactions
  held?.snapshot.release()
  await e.close()
  return garbageCompactions
}

const base = seedFromEnv()
t.comment(`garbage model test seed: ${base} (reproduce with RINGWOOD_SEED=${base})`)
t.test('garbage compaction keeps the engine equal to a Map, and snapshots to theirs', async (t) => {
  let total = 0
  for (let i = 0; i < 3; i++) total += await run(t, (base + i) >>> 0)
  t.ok(total > 0, `${total} garbage compactions ran in 3 seeds of ${steps} steps`)
})
