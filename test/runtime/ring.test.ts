// The SPSC ring on one thread against a trivially correct model (a FIFO array): random
// record sizes, wrap-around, PAD records, full-ring refusals, sequence checks.

import t from 'tap'
import { createRing, fragmentBytesMax, RingReader, RingWriter } from '../../lib/runtime'
import { makePrng, seedFromEnv } from '../../lib/util'
import { AssertionError } from '../../lib/assert'

const HEADER = 32
/** Envelope word 2: version 1, kind MESSAGE (the endpoint writes it; here the test does). */
const VKF_MESSAGE = 1 | (2 << 8)

t.test('ring: FIFO with no loss or duplicates under random sizes and wrap-around (seeded)', async (t) => {
  const seed = seedFromEnv()
  t.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const prng = makePrng(seed)
  for (const capacity of [4096, 8192, 65536]) {
    const sab = createRing(capacity)
    const w = new RingWriter(sab)
    const r = new RingReader(sab)
    const model: Uint8Array[] = []
    let written = 0
    let read = 0
    let refusals = 0
    let mismatches = 0
    const maxPayload = fragmentBytesMax(capacity) - HEADER
    const deadline = Date.now() + 5_000
    while (written < 20_000 && Date.now() < deadline) {
      const burst = prng.range(1, 40)
      for (let i = 0; i < burst; i++) {
        const len = prng.bool(0.1) ? maxPayload : prng.int(Math.min(maxPayload, 300) + 1)
        const pos = w.reserve(len)
        if (pos < 0) {
          refusals++
          break
        }
        const body = prng.bytes(len)
        w.d32[(pos >> 2) + 2] = VKF_MESSAGE
        w.u8.set(body, pos + HEADER)
        w.commit(pos, len)
        model.push(body)
        written++
      }
      if (prng.bool(0.7)) w.publish()
      if (prng.bool(0.6)) {
        r.take((ring, pos) => {
          const len = (ring.d32[pos >> 2]! >>> 0) - HEADER
          const got = ring.u8.subarray(pos + HEADER, pos + HEADER + len)
          const want = model[read++]
          if (want === undefined || Buffer.compare(Buffer.from(got), Buffer.from(want)) !== 0) mismatches++
        }, prng.range(1, 64))
        r.release()
      }
    }
    w.publish()
    r.take((ring, pos) => {
      const len = (ring.d32[pos >> 2]! >>> 0) - HEADER
      const want = model[read++]
      if (want === undefined || Buffer.compare(Buffer.from(ring.u8.subarray(pos + HEADER, pos + HEADER + len)), Buffer.from(want)) !== 0) mismatches++
    }, 1 << 30)
    r.release()
    t.equal(mismatches, 0, `capacity ${capacity}: every record read back intact and in order`)
    t.equal(read, written, `capacity ${capacity}: ${written} written, all read (no loss, no duplicates)`)
    t.ok(refusals > 0, `capacity ${capacity}: the ring filled up (${refusals} refusals) and recovered`)
    t.notOk(r.hasData(), 'drained')
  }
})

t.test('ring: a full ring refuses, a drained ring accepts a maximal record at any offset', async (t) => {
  const cap = 4096
  const sab = createRing(cap)
  const w = new RingWriter(sab)
  const r = new RingReader(sab)
  const max = fragmentBytesMax(cap) - HEADER
  for (let shift = 0; shift < 40; shift++) {
    const small = w.reserve(8 * shift)
    t.ok(small >= 0)
    w.d32[(small >> 2) + 2] = VKF_MESSAGE
    w.commit(small, 8 * shift)
    let n = 0
    for (let pos = w.reserve(max); pos >= 0; pos = w.reserve(max)) {
      w.d32[(pos >> 2) + 2] = VKF_MESSAGE
      w.commit(pos, max)
      n++
    }
    t.ok(n >= 2 && n <= 4, `ring took ${n} maximal records before refusing`)
    w.publish()
    r.take(() => {}, 1 << 30)
    r.release()
  }
})

t.test('ring: the consumer asserts the sequence', async (t) => {
  const sab = createRing(4096)
  const w = new RingWriter(sab)
  const r = new RingReader(sab)
  const pos = w.reserve(4)
  w.commit(pos, 4)
  new Int32Array(sab, 128)[1] = 99 // corrupt the seq of the first record
  w.publish()
  t.throws(() => r.take(() => {}, 10), AssertionError)
})
