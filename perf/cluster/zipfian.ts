// YCSB's scrambled zipfian key chooser (core/.../ScrambledZipfianGenerator.java), written
// again on the project's seeded prng: a zipfian rank over YCSB's 10^10 items with zipfian
// constant 0.99 and YCSB's precomputed zeta(10^10, 0.99), then FNV-1a 64 of that rank modulo
// the key count (YCSB's fnvhash64, Math.abs of the signed 64-bit hash). The popular ranks
// land on keys spread over the whole key space, not on the first ones.

import { makePrng, type Prng } from '../../lib/util/prng'

export const zipfianConstant = 0.99
/** YCSB ScrambledZipfianGenerator.ITEM_COUNT and ZETAN (zeta(10^10, 0.99)). */
const itemCount = 10_000_000_000
const zetan = 26.46902820178302

function zeta(n: number, theta: number): number {
  let s = 0
  for (let i = 0; i < n; i++) s += 1 / Math.pow(i + 1, theta)
  return s
}

/** YCSB's ZipfianGenerator over [0, items) (Gray et al., "Quickly generating billion-record synthetic databases"). */
export class Zipfian {
  private readonly alpha: number
  private readonly eta: number
  private readonly half: number

  constructor(
    private readonly items: number,
    theta: number,
    private readonly zetaN: number,
    private readonly prng: Prng,
  ) {
    const zeta2 = zeta(2, theta)
    this.alpha = 1 / (1 - theta)
    this.eta = (1 - Math.pow(2 / items, 1 - theta)) / (1 - zeta2 / zetaN)
    this.half = 1 + Math.pow(0.5, theta)
  }

  next(): number {
    const u = this.prng.next()
    const uz = u * this.zetaN
    if (uz < 1) return 0
    if (uz < this.half) return 1
    return Math.floor(this.items * Math.pow(this.eta * u - this.eta + 1, this.alpha))
  }
}

const two32 = 0x100000000

/** YCSB Utils.fnvhash64(val) % n for 0 <= val < 2^53, in 32-bit halves (no BigInt). */
export function fnvhash64Mod(val: number, n: number): number {
  // FNV offset basis 0xcbf29ce484222325, prime 0x100000001b3 = 2^40 + 0x1b3.
  let hi = 0xcbf29ce4
  let lo = 0x84222325
  let vlo = val >>> 0
  let vhi = Math.floor(val / two32) >>> 0
  for (let i = 0; i < 8; i++) {
    const octet = vlo & 0xff
    vlo = ((vlo >>> 8) | ((vhi & 0xff) << 24)) >>> 0
    vhi = vhi >>> 8
    lo = (lo ^ octet) >>> 0
    // (hi, lo) *= 2^40 + 0x1b3 (mod 2^64)
    const loMul = lo * 0x1b3 // < 2^41: exact
    const carry = Math.floor(loMul / two32)
    const newLo = loMul >>> 0
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0
    lo = newLo
  }
  if (hi & 0x80000000) {
    // Math.abs of the signed value: two's complement negation.
    lo = (~lo + 1) >>> 0
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0
  }
  const m32 = two32 % n
  return ((hi % n) * m32 + lo) % n
}

/** YCSB's ScrambledZipfianGenerator(0, n - 1): key indices in [0, n). */
export class ScrambledZipfian {
  private readonly z: Zipfian

  constructor(
    private readonly n: number,
    prng: Prng,
  ) {
    this.z = new Zipfian(itemCount, zipfianConstant, zetan, prng)
  }

  next(): number {
    return fnvhash64Mod(this.z.next(), this.n)
  }
}

export interface OpStream {
  /** Key index of operation i. */
  readonly keys: Int32Array
  /** 1 when operation i is an update, 0 for a read. */
  readonly updates: Uint8Array
}

/** `count` operations of a workload (`updateFraction` of them updates), the same for every system given the seed. */
export function opStream(count: number, keyCount: number, updateFraction: number, seed: number): OpStream {
  const prng = makePrng(seed)
  const chooser = new ScrambledZipfian(keyCount, makePrng(seed ^ 0x5bd1e995))
  const keys = new Int32Array(count)
  const updates = new Uint8Array(count)
  for (let i = 0; i < count; i++) {
    keys[i] = chooser.next()
    updates[i] = prng.next() < updateFraction ? 1 : 0
  }
  return { keys, updates }
}
