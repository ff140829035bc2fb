// Key → partition (PROTOCOL.md §2.1). Q is a power of two; the partition is the top
// log2(Q) bits of hash32(key bytes, ringHashSeed). Changing this moves every key.

import { assert } from '../../assert'
import { partitionsMax, partitionsMin, ringHashSeed } from '../../constants'
import { hash32 } from '../../util/hash'
import { toBuffer, type KeyLike } from '../../util/bytes'

export function isValidPartitionCount(q: number): boolean {
  return Number.isInteger(q) && q >= partitionsMin && q <= partitionsMax && (q & (q - 1)) === 0
}

export function assertPartitionCount(q: number): void {
  // Checked before building the message: this runs on every request.
  if (!isValidPartitionCount(q)) assert(false, `partition count must be a power of two in [${partitionsMin}, ${partitionsMax}], got ${q}`)
}

/** The ring hash of a key: where it sits on the 32-bit ring. */
export function ringHash(key: KeyLike): number {
  return hash32(toBuffer(key), ringHashSeed)
}

/** The partition that holds a ring hash. */
export function partitionOfHash(h: number, partitions: number): number {
  assertPartitionCount(partitions)
  const bits = Math.log2(partitions)
  return bits === 0 ? 0 : (h >>> 0) >>> (32 - bits)
}

export function partitionOfKey(key: KeyLike, partitions: number): number {
  return partitionOfHash(ringHash(key), partitions)
}

/** The first ring hash of partition p (its range is [start, start + 2^32/Q)). */
export function partitionStartHash(p: number, partitions: number): number {
  assertPartitionCount(partitions)
  assert(Number.isInteger(p) && p >= 0 && p < partitions, `partition out of range: ${p}`)
  return p * (0x100000000 / partitions)
}
