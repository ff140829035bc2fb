// Non-cryptographic 32-bit hashing of bytes (MurmurHash3 x86_32). Used by bloom filters
// (with double hashing) and, with a different seed, by the ring to place keys in partitions.
// Stable across versions: changing it changes file contents and key placement.

export function hash32(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
  let h = seed >>> 0
  const c1 = 0xcc9e2d51
  const c2 = 0x1b873593
  let i = start
  const blocksEnd = start + ((end - start) & ~3)
  for (; i < blocksEnd; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, c1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, c2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  const tail = end - i
  if (tail > 0) {
    let k = 0
    if (tail === 3) k ^= data[i + 2]! << 16
    if (tail >= 2) k ^= data[i + 1]! << 8
    k ^= data[i]!
    k = Math.imul(k, c1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, c2)
    h ^= k
  }
  h ^= end - start
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
