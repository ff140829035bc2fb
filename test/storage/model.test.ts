// A seeded model test of the whole engine: random puts, deletes, batches, TTLs, reads,
// iterations, flushes, full compactions and reopens, checked against a Map after every step.
// Reproduce a failure with RINGWOOD_SEED=<seed printed below>.

import t from 'tap'
import { Engine, type BatchOp } from '../../lib/storage'
import { ManualClock } from '../../lib/util/clock'
import { makePrng, seedFromEnv, type Prng } from '../../lib/util/prng'
import { tempDir } from '../support/tmp'

const opsPerRun = 1000

async function run(t: { fail(m: string): void; teardown(fn: () => void): void }, seed: number, reader: 'mmap' | 'pread'): Promise<void> {
  const r: Prng = makePrng(seed)
  const dir = tempDir(t)
  const clock = new ManualClock()
  const open = (): Promise<Engine> =>
    Engine.open(dir, { reader, clock, memtableBytes: 64 * 1024, blockBytes: 512, compactionInline: r.bool(0.5), durability: 'none' })
  let e = await open()
  const model = new Map<string, { value: string; expiresAtMs: number }>()
  const key = (): string => `key${String(r.int(300)).padStart(4, '0')}`
  const live = (k: string): string | undefined => {
    const m = model.get(k)
    return m !== undefined && (m.expiresAtMs === 0 || m.expiresAtMs > clock.nowMs()) ? m.value : undefined
  }
  for (let step = 0; step < opsPerRun; step++) {
    const p = r.next()
    if (p < 0.4) {
      const k = key()
      const v = `v${step}-${'x'.repeat(r.int(200))}`
      const ttl = r.bool(0.1) ? r.range(1, 5000) : undefined
      await e.put(k, v, ttl === undefined ? undefined : { ttlMs: ttl })
      model.set(k, { value: v, expiresAtMs: ttl === undefined ? 0 : clock.nowMs() + ttl })
    } else if (p < 0.5) {
      const k = key()
      await e.del(k)
      model.delete(k)
    } else if (p < 0.6) {
      const ops: BatchOp[] = []
      for (let i = r.int(10); i >= 0; i--) {
        const k = key()
        if (r.bool(0.7)) ops.push({ type: 'put', key: k, value: `b${step}-${i}` })
        else ops.push({ type: 'del', key: k })
      }
      await e.batch(ops)
      for (const op of ops) {
        if (op.type === 'put') model.set(String(op.key), { value: String(op.value), expiresAtMs: 0 })
        else model.delete(String(op.key))
      }
    } else if (p < 0.85) {
      const k = key()
      const got = e.getSync(k)?.toString()
      if (got !== live(k)) t.fail(`seed ${seed} step ${step}: get ${k} = ${got}, expected ${live(k)}`)
    } else if (p < 0.9) {
      const reverse = r.bool()
      const lo = key()
      const hi = key()
      const it = e.iterator({ gte: lo, lt: hi, reverse })
      const got: string[] = []
      for (let kv = it.next(); kv; kv = it.next()) got.push(`${kv.key}=${kv.value}`)
      it.close()
      const want = [...model.keys()].filter((k) => k >= lo && k < hi && live(k) !== undefined).sort()
      if (reverse) want.reverse()
      const wantKv = want.map((k) => `${k}=${live(k)}`)
      if (JSON.stringify(got) !== JSON.stringify(wantKv)) t.fail(`seed ${seed} step ${step}: iterator [${lo}, ${hi}) reverse=${reverse} differs`)
    } else if (p < 0.95) {
      clock.advance(r.int(2000))
    } else if (p < 0.975) {
      await e.flush()
    } else if (p < 0.99) {
      await e.compactAll()
    } else {
      await e.close()
      e = await open()
    }
  }
  for (let i = 0; i < 300; i++) {
    const k = `key${String(i).padStart(4, '0')}`
    if (e.getSync(k)?.toString() !== live(k)) t.fail(`seed ${seed}: final state differs at ${k}`)
  }
  await e.close()
}

const base = seedFromEnv()
t.comment(`model test seed: ${base} (reproduce with RINGWOOD_SEED=${base})`)
for (const reader of ['mmap', 'pread'] as const) {
  for (let i = 0; i < 2; i++) {
    const seed = (base + i) >>> 0
    t.test(`engine matches a Map (seed ${seed}, ${reader})`, async (t) => {
      await run(t, seed, reader)
      t.pass(`seed ${seed} ran ${opsPerRun} steps`)
    })
  }
}
