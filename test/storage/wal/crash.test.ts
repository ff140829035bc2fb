// Power cuts under the commit log (FaultFs): every write acknowledged as durable survives, and
// what recovery finds is always a prefix of the write history (torn tails cut, nothing reordered).

import path from 'node:path'
import t from 'tap'
import { FaultFs } from '../../../lib/storage/fs/fault_fs'
import { LogReader } from '../../../lib/storage/wal/log_reader'
import { LogWriter, type Durability } from '../../../lib/storage/wal/log_writer'
import { makePrng, seedFromEnv } from '../../../lib/util/prng'
import { tempDir } from './wal_helpers'

t.test('power cut: acknowledged durable writes survive; recovery is a prefix of history', async (t) => {
  const seed = seedFromEnv()
  t.comment(`seed ${seed} (RINGWOOD_SEED=${seed} reproduces)`)
  const prng = makePrng(seed)
  const dir = tempDir(t)
  let roundsWithLoss = 0
  let roundsWithDurable = 0
  for (let round = 0; round < 40; round++) {
    const fs = new FaultFs()
    const file = path.join(dir, `${round}.log`)
    const durability = prng.pick<Durability>(['sync', 'sync', 'interval', 'none'])
    const w = new LogWriter(fs.openAppend(file, true), { durability, syncIntervalMs: 1 })
    fs.syncDir(dir) // a new segment's directory entry must be durable before its writes are
    const history: string[] = [''] // history[seq] = value of the write with that seq
    let durableAcked = 0 // highest seq acknowledged as durable
    let seq = 1
    let crashed = false
    const ticks = prng.range(1, 60)
    const inFlight: Promise<void>[] = []
    for (let tick = 0; tick < ticks; tick++) {
      const burst = prng.range(0, 50)
      for (let i = 0; i < burst; i++) {
        const s = seq++
        const v = `r${round}-v${s}-${'x'.repeat(prng.int(300))}`
        history[s] = v
        const sync = durability === 'sync' || prng.bool(0.1)
        inFlight.push(
          w.write(s, [{ key: Buffer.from(`k${s % 17}`), seq: s, kind: 1, expiresAtMs: 0, value: Buffer.from(v) }], { sync }).then(
            () => {
              if (crashed) t.fail('acknowledged after the power cut')
              if (sync && s > durableAcked) durableAcked = s
            },
            () => undefined,
          ),
        )
      }
      await new Promise((r) => (prng.bool() ? setImmediate(r) : setTimeout(r, prng.int(2))))
    }
    crashed = true
    fs.crash({ torn: prng.bool(0.7), prng })
    await Promise.all(inFlight)
    const reader = new LogReader(fs, file, { truncate: true })
    const got = reader.readAll().flatMap((g) => g.entries)
    const prefixOk = got.every((e, i) => e.seq === i + 1 && e.value.toString() === history[e.seq])
    if (!prefixOk) t.fail(`round ${round}: recovered writes are not a prefix of history`)
    if (got.length < durableAcked) t.fail(`round ${round} (${durability}): ${got.length} recovered < ${durableAcked} acknowledged durable`)
    if (got.length < seq - 1) roundsWithLoss++
    if (durableAcked > 0) roundsWithDurable++
    await w.close().catch(() => undefined)
  }
  t.ok(roundsWithLoss > 0 && roundsWithDurable > 0, `the cuts lost unsynced writes in ${roundsWithLoss} rounds; ${roundsWithDurable} rounds had durable acks`)
})
