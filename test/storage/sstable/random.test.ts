// Seeded randomized test of the SSTable against a sorted array (the trivially correct model):
// random keys with shared prefixes, random versions and kinds, random block sizes; every get at
// random snapshots, full forward and reverse scans, random seeks followed by steps.
// Reproduce a failure with RINGWOOD_SEED=<seed printed in the output>.

import path from 'node:path'
import t from 'tap'
import { makePrng, type Prng, seedFromEnv } from '../../../lib/util/prng'
import { Kind } from '../../../lib/storage/types'
import { compareEntries, type ModelEntry, openWith, readers, tmpDir, writeTable } from './helpers'

const alphabet = Buffer.from('ab\u0000\u00ffz', 'latin1')

function randomKey(prng: Prng): Buffer {
  const n = prng.range(0, 20)
  const out = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) out[i] = alphabet[prng.int(alphabet.length)]!
  return out
}

function randomTable(prng: Prng): ModelEntry[] {
  const keys = new Map<string, Buffer>()
  const want = prng.range(0, 1500)
  for (let i = 0; i < want; i++) {
    const k = randomKey(prng)
    keys.set(k.toString('hex'), k)
  }
  const entries: ModelEntry[] = []
  const usedSeqs = new Set<number>()
  for (const key of keys.values()) {
    const versions = prng.bool(0.8) ? 1 : prng.range(2, 40)
    for (let v = 0; v < versions; v++) {
      let seq = prng.int(100_000)
      while (usedSeqs.has(seq)) seq = prng.int(100_000)
      usedSeqs.add(seq)
      const kind = prng.pick([Kind.Del, Kind.Put, Kind.Put, Kind.PutTtl])
      const value = kind === Kind.Del ? Buffer.alloc(0) : prng.bytes(prng.bool(0.05) ? prng.range(200, 3000) : prng.range(0, 30))
      entries.push({ key, seq, kind, expiresAtMs: kind === Kind.PutTtl ? prng.range(1, 2 ** 45) : 0, value })
    }
  }
  return entries.sort(compareEntries)
}

/** First index with key >= target, in a model sorted by key. */
function lowerBound(model: readonly ModelEntry[], target: Buffer): number {
  let lo = 0
  let hi = model.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (Buffer.compare(model[mid]!.key, target) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

function show(x: { key: Buffer; seq: number; kind: number; expiresAtMs: number; value: Buffer } | undefined): string {
  return x === undefined ? 'none' : `${x.key.toString('hex')}@${x.seq}/${x.kind}/${x.expiresAtMs}/${x.value.toString('hex')}`
}

const seed = seedFromEnv()
t.comment(`seed ${seed} (reproduce with RINGWOOD_SEED=${seed})`)

for (const reader of readers) {
  t.test(`${reader}: random tables agree with the model (seed ${seed})`, async (t) => {
    const prng = makePrng(seed)
    const dir = tmpDir(t)
    for (let round = 0; round < 12; round++) {
      const model = randomTable(prng)
      const file = path.join(dir, `${round}.sst`)
      const blockBytes = prng.range(16, 4096)
      writeTable(file, model, { blockBytes, bloomBitsPerKey: prng.range(0, 16) })
      const r = openWith(file, reader)
      const ctx = `round ${round}, ${model.length} entries, blockBytes ${blockBytes}`
      let bad = 0
      // Point lookups: every key at a few snapshots, plus absent keys.
      const targets = model.map((m) => m.key)
      for (let i = 0; i < 300; i++) targets.push(randomKey(prng))
      for (const key of targets) {
        for (let s = 0; s < 3; s++) {
          const snap = s === 0 ? Number.MAX_SAFE_INTEGER : prng.int(100_000)
          let i = lowerBound(model, key)
          while (i < model.length && model[i]!.key.equals(key) && model[i]!.seq > snap) i++
          const want = i < model.length && model[i]!.key.equals(key) ? model[i] : undefined
          const g = r.get(key, snap)
          const got = g === undefined ? undefined : { key, seq: g.seq, kind: g.kind, expiresAtMs: g.expiresAtMs, value: g.value }
          if (show(got) !== show(want) && bad++ < 5) t.fail(`${ctx}: get ${key.toString('hex')} @${snap}: ${show(got)} != ${show(want)}`)
        }
      }
      // Full scans.
      for (const reverse of [false, true]) {
        const it = r.iterator(reverse)
        const got: string[] = []
        for (it.seekToStart(); it.valid(); it.next()) got.push(show({ key: it.key(), seq: it.seq(), kind: it.kind(), expiresAtMs: it.expiresAtMs(), value: it.value() }))
        const want = model.map(show)
        if (reverse) want.reverse()
        t.same(got, want, `${ctx}: ${reverse ? 'reverse' : 'forward'} scan`)
      }
      // Seeks, then a few steps.
      for (const reverse of [false, true]) {
        const it = r.iterator(reverse)
        for (let q = 0; q < 200; q++) {
          const target = prng.bool(0.5) && model.length > 0 ? model[prng.int(model.length)]!.key : randomKey(prng)
          it.seek(target)
          let i = reverse ? lowerBound(model, Buffer.concat([target, Buffer.from([0])])) - 1 : lowerBound(model, target)
          for (let step = 0; step < 4; step++) {
            const want = i >= 0 && i < model.length ? show(model[i]) : 'none'
            const got = it.valid() ? show({ key: it.key(), seq: it.seq(), kind: it.kind(), expiresAtMs: it.expiresAtMs(), value: it.value() }) : 'none'
            if (got !== want && bad++ < 5) t.fail(`${ctx}: ${reverse ? 'reverse' : 'forward'} seek ${target.toString('hex')} step ${step}: ${got} != ${want}`)
            if (!it.valid()) break
            it.next()
            i += reverse ? -1 : 1
          }
        }
      }
      t.equal(bad, 0, `${ctx}: no mismatches`)
      r.close()
    }
  })
}
