// Reads a bloom filter block (FORMAT.md §3.3). `mayContain` allocates nothing: it hashes a
// byte range of the caller's buffer and probes the bit array in place.
// Invariant: the probe sequence matches bloom_builder.ts.

import { corruption } from '../../errors'
import { hash32 } from '../../util/hash'
import { bloomHashSeed } from './bloom_builder'

export class BloomReader {
  private readonly bits: Uint8Array
  private readonly nbits: number
  private readonly k: number

  /**
   * `filter` is the block's contents (crc already verified). An empty filter says "maybe" for
   * every key. A malformed one is KV_CORRUPTION; `file`/`offset` name it in the error.
   */
  constructor(filter: Uint8Array, where: { file?: string; offset?: number } = {}) {
    if (filter.length === 0) {
      this.bits = filter
      this.nbits = 0
      this.k = 0
      return
    }
    const k = filter[filter.length - 1]!
    if (filter.length < 2 || k < 1 || k > 30) {
      throw corruption(`bloom filter malformed (length ${filter.length}, k ${k})`, where)
    }
    this.bits = filter.subarray(0, filter.length - 1)
    this.nbits = this.bits.length * 8
    this.k = k
  }

  /** False only if `key[start, end)` was certainly never added. */
  mayContain(key: Uint8Array, start = 0, end = key.length): boolean {
    const nbits = this.nbits
    if (nbits === 0) return true
    const bits = this.bits
    let h = hash32(key, bloomHashSeed, start, end)
    const delta = ((h >>> 17) | (h << 15)) >>> 0
    for (let i = 0; i < this.k; i++) {
      const bit = h % nbits
      if ((bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false
      h = (h + delta) >>> 0
    }
    return true
  }
}
