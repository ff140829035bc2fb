import t from 'tap'
import { readVarint, varintEnd, varintLength, writeVarint } from '../../lib/util/varint'
import { checksum, crc32c, maskCrc, unmaskCrc } from '../../lib/util/crc32c'
import { hash32 } from '../../lib/util/hash'
import { makePrng } from '../../lib/util/prng'
import { KeyScratch, readU32, readU64, writeU32, writeU64, prefixSuccessor } from '../../lib/util/bytes'
import { isKvError } from '../../lib/errors'
import { ManualClock, TurnClock } from '../../lib/util/clock'
import { catchErr } from '../support/tmp'

t.test('varint round-trips up to 2^53 - 1', async (t) => {
  const values = [0, 1, 127, 128, 255, 300, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]
  for (const v of values) {
    const buf = Buffer.alloc(10)
    const end = writeVarint(buf, 1, v)
    t.equal(end - 1, varintLength(v), `length of ${v}`)
    t.equal(readVarint(buf, 1), v)
    t.equal(varintEnd.offset, end)
  }
})

t.test('varint: truncated or oversized input is KV_CORRUPTION', async (t) => {
  t.ok(isKvError(catchErr(() => readVarint(Buffer.from([0x80, 0x80]), 0)), 'KV_CORRUPTION'))
  t.ok(isKvError(catchErr(() => readVarint(Buffer.alloc(12, 0xff), 0)), 'KV_CORRUPTION'))
})

t.test('crc32c matches the standard check value and masks round-trip', async (t) => {
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  const c = crc32c(Buffer.from('ringwood'))
  t.equal(unmaskCrc(maskCrc(c)), c)
  t.not(checksum(Buffer.from('a')), checksum(Buffer.from('b')))
})

t.test('hash32 is MurmurHash3 x86_32', async (t) => {
  t.equal(hash32(Buffer.alloc(0)), 0)
  t.equal(hash32(Buffer.from('hello')), 0x248bfa47)
  t.equal(hash32(Buffer.from('hello, world')), 0x149bbb7f)
})

t.test('prng is deterministic per seed', async (t) => {
  const a = makePrng(42)
  const b = makePrng(42)
  for (let i = 0; i < 100; i++) t.equal(a.next(), b.next())
  const r = makePrng(7)
  for (let i = 0; i < 1000; i++) {
    const x = r.range(3, 5)
    t.ok(x >= 3 && x <= 5)
  }
})

t.test('KeyScratch: ASCII keys as views of one buffer; anything else declined', async (t) => {
  const k = new KeyScratch(8)
  const a = k.view('abc')!
  t.ok(a.equals(Buffer.from('abc')), 'the bytes')
  t.equal(k.view('xyz'), a, 'one view per length, reused')
  t.equal(a.toString(), 'xyz', 'valid until the next call')
  t.ok(k.view('12345678')!.equals(Buffer.from('12345678')), 'up to its size')
  t.equal(k.view('123456789'), undefined, 'longer: declined')
  t.equal(k.view(''), undefined, 'empty: declined')
  t.equal(k.view('caf\u00e9'), undefined, 'not ASCII: declined')
})

t.test('fixed-width integers and prefix successor', async (t) => {
  const buf = Buffer.alloc(16)
  writeU32(buf, 0, 0xdeadbeef)
  t.equal(readU32(buf, 0), 0xdeadbeef)
  writeU64(buf, 4, Number.MAX_SAFE_INTEGER)
  t.equal(readU64(buf, 4), Number.MAX_SAFE_INTEGER)
  t.same(prefixSuccessor(Buffer.from([1, 0xff])), Buffer.from([2]))
  t.equal(prefixSuccessor(Buffer.from([0xff, 0xff])), undefined)
})

t.test('manual clock fires timers in order', async (t) => {
  const c = new ManualClock(0)
  const fired: number[] = []
  c.setTimeout(() => fired.push(2), 20)
  c.setTimeout(() => fired.push(1), 10)
  c.setTimeout(() => fired.push(3), 30).cancel()
  c.advance(25)
  t.same(fired, [1, 2])
  t.equal(c.nowMs(), 25)
})

t.test('TurnClock reads its clock once per event-loop turn', async (tt) => {
  let reads = 0
  const clock = new TurnClock(() => ++reads)
  tt.equal(clock.now(), 1)
  tt.equal(clock.now(), 1, 'the same turn: the same reading')
  await Promise.resolve()
  tt.equal(clock.now(), 1, 'a microtask is still the same turn')
  await new Promise((r) => setImmediate(r))
  tt.equal(clock.now(), 2, 'the next turn reads again')
  tt.equal(reads, 2)
})
