// The engine benchmark's data set (perf/README.md, "Engine benchmark"): keys as LevelDB's
// db_bench makes them (16 ASCII digits, "%016d", so that key order is numeric order), missing
// keys as db_bench's readmissing makes them ("%016d." — 17 bytes, between two present keys),
// 100-byte values cut from a pool of seeded random bytes (incompressible), and seeded
// permutations for the random-order workloads. Every system gets exactly the same bytes.

import { makePrng } from '../../lib/util/prng'

export const keyBytes = 16
export const valueBytes = 100
/** Values are 100-byte windows into this pool at a stride that is not a multiple of 100. */
const valuePoolBytes = 16 * 1024 * 1024

export class Dataset {
  /** Key i at [i*16, i*16+16). */
  private readonly keys: Buffer
  private readonly pool: Buffer

  constructor(readonly n: number, seed = 1) {
    this.keys = Buffer.allocUnsafe(n * keyBytes)
    for (let i = 0; i < n; i++) this.keys.write(String(i).padStart(keyBytes, '0'), i * keyBytes, 'latin1')
    this.pool = makePrng(seed).bytes(valuePoolBytes + valueBytes)
  }

  /** A view (no copy): every system under test copies what it stores. */
  key(i: number): Buffer {
    return this.keys.subarray(i * keyBytes, i * keyBytes + keyBytes)
  }

  /** A key that is not in the database, inside its key range (db_bench readmissing). */
  missingKey(i: number): Buffer {
    return Buffer.from(String(i).padStart(keyBytes, '0') + '.', 'latin1')
  }

  /** The value for the w-th write of a workload (distinct windows of the random pool). */
  value(w: number): Buffer {
    const off = (w * 131) % valuePoolBytes
    return this.pool.subarray(off, off + valueBytes)
  }

  /** A seeded random permutation of 0..n-1 (each key exactly once, in random order). */
  permutation(seed: number): Int32Array {
    const p = new Int32Array(this.n)
    for (let i = 0; i < this.n; i++) p[i] = i
    const prng = makePrng(seed)
    for (let i = this.n - 1; i > 0; i--) {
      const j = prng.int(i + 1)
      const t = p[i]!
      p[i] = p[j]!
      p[j] = t
    }
    return p
  }

  /** `count` key indices drawn uniformly with replacement (db_bench's readrandom). */
  randomIndices(count: number, seed: number): Int32Array {
    const out = new Int32Array(count)
    const prng = makePrng(seed)
    for (let i = 0; i < count; i++) out[i] = prng.int(this.n)
    return out
  }

  /** Raw data size: every key once with its value. */
  get rawBytes(): number {
    return this.n * (keyBytes + valueBytes)
  }
}
