// Builds the bloom filter of one SSTable (FORMAT.md §3.3): one filter over every distinct key.
// Keys are hashed as they arrive (the builder keeps 4 bytes per key, not the keys), and the bit
// array is laid out at finish(), when the key count (hence nbits) is known.
// Invariant: the probe sequence here and in bloom_reader.ts is the same (bloomProbeSeed, delta).

import { assertInteger } from '../../assert'
import { bloomBitsPerKeyMax } from '../../constants'
import { hash32 } from '../../util/hash'

/** FORMAT.md §3.3: the seed of the key hash. */
export const bloomHashSeed = 0xbc9f1d34

/** Probes per key for a bits-per-key setting: clamp(round(bitsPerKey × ln 2), 1, 30). */
export function bloomProbes(bitsPerKey: number): number {
  return Math.min(30, Math.max(1, Math.round(bitsPerKey * Math.LN2)))
}

export class BloomBuilder {
  private hashes = new Uint32Array(1024)
  private count = 0

  /** `bitsPerKey` 0 writes an empty filter (every key "maybe"). */
  constructor(readonly bitsPerKey: number) {
    assertInteger(bitsPerKey, 0, bloomBitsPerKeyMax, 'bloomBitsPerKey')
  }

  /** Adds one distinct key (the caller adds each key once). */
  addKey(key: Uint8Array): void {
    if (this.bitsPerKey === 0) return
    if (this.count === this.hashes.length) {
      const grown = new Uint32Array(this.hashes.length * 2)
      grown.set(this.hashes)
      this.hashes = grown
    }
    this.hashes[this.count++] = hash32(key, bloomHashSeed)
  }

  get keys(): number {
    return this.count
  }

  /** The filter block's contents: bits then k. Empty if there are no keys or no bits. */
  finish(): Buffer {
    if (this.count === 0 || this.bitsPerKey === 0) return Buffer.alloc(0)
    const bytes = Math.ceil(Math.max(64, this.count * this.bitsPerKey) / 8)
    const nbits = bytes * 8
    const k = bloomProbes(this.bitsPerKey)
    const out = Buffer.alloc(bytes + 1)
    for (let j = 0; j < this.count; j++) {
      let h = this.hashes[j]!
      const delta = ((h >>> 17) | (h << 15)) >>> 0
      for (let i = 0; i < k; i++) {
        const bit = h % nbits
        out[bit >>> 3]! |= 1 << (bit & 7)
        h = (h + delta) >>> 0
      }
    }
    out[bytes] = k
    return out
  }
}
