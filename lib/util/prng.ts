// Seeded pseudo-random numbers (sfc32), so that every randomized test and simulation can be
// replayed from the seed it prints. Code that needs randomness takes a Prng, never Math.random.

export interface Prng {
  /** The seed this generator started from (print it on failure). */
  readonly seed: number
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number
  bool(pTrue?: number): boolean
  pick<T>(items: readonly T[]): T
  bytes(n: number): Buffer
}

export function makePrng(seed: number): Prng {
  let a = 0x9e3779b9 ^ seed
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b)
  let c = 0xb7e15162
  let d = 1
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 15; i++) u32()
  const prng: Prng = {
    seed,
    next: () => u32() / 0x100000000,
    int: (n) => Math.floor((u32() / 0x100000000) * n),
    range: (lo, hi) => lo + Math.floor((u32() / 0x100000000) * (hi - lo + 1)),
    bool: (pTrue = 0.5) => u32() / 0x100000000 < pTrue,
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick from an empty list')
      return items[Math.floor((u32() / 0x100000000) * items.length)]!
    },
    bytes: (n) => {
      const out = Buffer.allocUnsafe(n)
      for (let i = 0; i < n; i++) out[i] = u32() & 0xff
      return out
    },
  }
  return prng
}

/** A seed from the environment (RINGWOOD_SEED) or the clock, for tests that print it. */
export function seedFromEnv(): number {
  const s = process.env['RINGWOOD_SEED']
  if (s !== undefined && s !== '') return Number.parseInt(s, 10) >>> 0
  return (Date.now() ^ (process.pid << 16)) >>> 0
}
